"""The review loop feature."""
