"""Pure planners: (policies, snapshot, now) -> Plan."""
