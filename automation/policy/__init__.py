"""Policies as code: pydantic models of policies/*.yaml and their loader."""
