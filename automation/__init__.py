"""dataface-ops: policy-as-code for the Dataface operating model."""

__version__ = "0.1.0"
