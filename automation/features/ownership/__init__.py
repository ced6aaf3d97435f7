"""The ownership feature."""
