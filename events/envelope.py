"""Events as modules declare them, and the EventBridge envelope they travel in.

A module declares each event as a frozen dataclass subclassing `Event`, in its `events.py`:

    @dataclass(frozen=True)
    class TransportStarted(Event):
        module = "shipping"
        transport_uuid: str
        ...

The dataclass fields are the event's `data`; the envelope adds eventId, occurredAt, version,
correlationId and actor (API.md, "Events").
"""

from __future__ import annotations

import dataclasses
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.conf import settings

# Who is acting, set once per request by the gateway: {"type": "user", "uuid": ...} or
# {"type": "apiKey", "name": ...}; system work (heartbeat, relay) runs as {"type": "system"}.
current_actor: ContextVar[dict[str, Any] | None] = ContextVar("current_actor", default=None)


@dataclasses.dataclass(frozen=True)
class Event:
    module: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def detail_type(cls) -> str:
        return cls.__name__

    @classmethod
    def source(cls) -> str:
        return f"{settings.EVENTS_SOURCE_PREFIX}.{cls.module}"

    def data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def build_detail(event: Event, *, correlation_id: str) -> dict[str, Any]:
    return {
        "eventId": str(uuid.uuid4()),
        "occurredAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "version": event.version,
        "correlationId": correlation_id,
        "actor": current_actor.get() or {"type": "system"},
        "data": event.data(),
    }
