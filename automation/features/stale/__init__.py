"""The stale feature."""
