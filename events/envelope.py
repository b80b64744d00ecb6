"""Events as modules declare them, and the EventBridge envelope they travel in.

A module declares each event as a frozen dataclass subclassing `Event`, in its `events.py`:

    @dataclass(frozen=True)
    class TransportStarted(Event):
        module = "shipping"
        transport_uuid: str
        ...

The dataclass fields are the event's `data`, keys in camelCase like the rest of the public contract
(`transport_uuid` travels as `transportUuid`; keys of dict-valued fields are kept as given); the
envelope adds eventId, occurredAt, version, correlationId and actor, and the W3C traceparent of
the span that emitted it when tracing is on (events/catalog.json lists every event with its schema).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

from django.conf import settings

from events.tracing import current_traceparent
from request_state import current_actor

MAX_ENTRY_BYTES = 256 * 1024  # EventBridge's limit for one PutEvents entry, and for one request
TIME_FIELD_BYTES = 14  # EventBridge counts the Time field as 14 bytes whether sent or not


@dataclasses.dataclass(frozen=True)
class Event:
    module: ClassVar[str]
    version: ClassVar[int] = 1
    # Fields (Python names) holding personal data or secrets. The bus and the functions get them
    # (a notifier needs the phone number); live subscribers never do: see
    # events.catalog.for_live_subscribers, and `sensitiveFields` in events/catalog.json.
    sensitive_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def detail_type(cls) -> str:
        return cls.__name__

    @classmethod
    def source(cls) -> str:
        return f"{settings.EVENTS_SOURCE_PREFIX}.{cls.module}"

    def data(self) -> dict[str, Any]:
        """The event's `data`: its fields with camelCase keys, like the rest of the contract."""
        data: dict[str, Any] = json_data(self)
        return data


def camel_case(field_name: str) -> str:
    """A Python name as the public contract spells it: `transport_uuid` -> `transportUuid`.

    The one camelCase helper: events' data keys, mutation errors' `field`, heartbeat task names."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_data(value: Any) -> Any:
    """`value` as JSON-native data: dataclass field names in camelCase, dict keys as given."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            camel_case(f.name): json_data(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, list | tuple):
        return [json_data(v) for v in value]
    if isinstance(value, dict):
        return {k: json_data(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


def build_detail(event: Event, *, correlation_id: str) -> dict[str, Any]:
    detail = {
        "eventId": str(uuid.uuid4()),
        "occurredAt": iso_now(),
        "version": event.version,
        "correlationId": correlation_id or uuid.uuid4().hex,
        "actor": current_actor.get() or {"type": "system"},
        "data": event.data(),
    }
    # The functions continue this trace from it (infra/functions/shared/tracing.py).
    traceparent = current_traceparent()
    if traceparent:
        detail["traceparent"] = traceparent
    return detail


def iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def detail_json(detail: dict[str, Any]) -> str:
    """The Detail string as sent: compact, so the size we check is the size EventBridge counts."""
    return json.dumps(detail, separators=(",", ":"), ensure_ascii=False)


def entry_size(source: str, detail_type: str, detail: str) -> int:
    """EventBridge's size of a PutEvents entry (UTF-8 bytes of Source, DetailType, Detail, Time)."""
    return (
        len(source.encode()) + len(detail_type.encode()) + len(detail.encode()) + TIME_FIELD_BYTES
    )


def eventbridge_event(
    *, source: str, detail_type: str, detail: dict[str, Any], region: str, account: str
) -> dict[str, Any]:
    """The event as EventBridge hands it to a rule's target (what a Lambda handler receives)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),  # EventBridge assigns its own id per PutEvents entry
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def fanout_envelope(*, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """What the relay hands to events.fanout.publish for live subscriptions."""
    return {"source": source, "detailType": detail_type, "detail": detail}
