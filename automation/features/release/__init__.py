"""The release feature."""
