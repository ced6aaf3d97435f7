"""Tool lifecycle: one reminder issue before a deprecated tool's sunset, closed once removed."""
