"""What ops reads: the health of the event pipeline and housekeeping."""

from __future__ import annotations

from events.selectors import OutboxStatus, outbox_status


def system_status() -> OutboxStatus:
    """The outbox's backlog, its failures and the last heartbeat, read now."""
    return outbox_status()
