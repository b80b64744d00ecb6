"""What the relay hands a bus and what it gets back: the one vocabulary of every bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One outbox event on its way out."""

    event_id: str
    source: str
    detail_type: str
    detail: dict[str, Any]

    @property
    def correlation_id(self) -> str:
        return str(self.detail.get("correlationId") or "")


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str = ""
    # Retrying cannot help (e.g. EventBridge refused the entry as malformed): dead at once.
    permanent: bool = False


DELIVERED = DeliveryResult(ok=True)


class Bus(Protocol):
    def put_events(self, deliveries: Sequence[Delivery]) -> list[DeliveryResult]: ...
