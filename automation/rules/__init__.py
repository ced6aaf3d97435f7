"""Pure rules shared by a feature's collector and its planner (one-way data: no planner imports)."""
