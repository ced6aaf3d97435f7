"""The GitHub App webhook server: HTTP intake, a durable queue (huey), the processor.

config.py     AppConfig, the settings of `dataface-ops serve`
intake.py     verify, check, store durably, answer (Starlette on uvicorn, with edge limits)
shape.py      the minimal shape check of the payload fields the features use
subject.py    the per-subject key (one delivery per issue or PR at a time)
queue.py      huey on SQLite (embedded default) or Redis/Valkey (several machines), the journal
processor.py  installation tokens, one GitHub client per job, policies, the engine
redeliver.py  the sweep that asks GitHub to redeliver every failed delivery
service.py    the wiring; logs.py, JSON log lines
"""
