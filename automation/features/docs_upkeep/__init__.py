"""The documentation upkeep feature."""
