"""The drill-through dashboard: organisation -> OU -> service -> account, read through Athena."""
