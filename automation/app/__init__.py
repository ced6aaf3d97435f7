"""The GitHub App webhook server: HTTP intake, a durable queue (huey), the processor.

intake.py   verify, check the shape, store durably, answer (Starlette on uvicorn)
queue.py    huey on SQLite (embedded default) or Redis/Valkey (several machines)
processor.py  one GitHub client per job, policies from the default branch, the engine
redeliver.py  the sweep that asks GitHub to redeliver every failed delivery
"""
