"""The fault-injection layer: a GitHub that fails one request at a time, and its fakes."""
