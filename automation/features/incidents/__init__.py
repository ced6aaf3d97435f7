"""The incidents feature: MCP tool failures get an owner, a clock and a postmortem."""
