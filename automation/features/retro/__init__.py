"""The retrospective: what the policies produced over a period, and the changes it calls for."""
