"""Pure planners: policies + snapshot + time -> Plan (no PyGithub, no clock, no network)."""
