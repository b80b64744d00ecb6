"""Domain events: declared by modules, written to the outbox with the change, relayed after commit.

from events import Event, emit
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.envelope import Event, camel_case

if TYPE_CHECKING:
    from events.models import OutboxEvent


def emit(event: Event) -> OutboxEvent:
    """Write `event` to the outbox in the current transaction (see events.outbox.emit)."""
    from events.outbox import emit as write_to_outbox  # the app registry must be ready first

    return write_to_outbox(event)


__all__ = ["Event", "camel_case", "emit"]
