"""Ops: heartbeat housekeeping and system status (filled in by the events work)."""

Query = None
Mutation = None
Subscription = None
