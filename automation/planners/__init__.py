"""Pure planners: (policies, snapshot, now) -> Plan. No PyGithub, no clock, no network."""
