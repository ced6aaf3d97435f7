"""The oncall feature."""
