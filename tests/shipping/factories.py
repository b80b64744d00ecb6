"""Arrange helpers for shipping tests: centers, API keys, and rows made through the services."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any


def api_key(*scopes: str) -> str:
    """An `Authorization` value for a fresh API key with `scopes`."""
    from modules.auth.services import api_key_create

    created = api_key_create(name=f"ship-{uuid.uuid4().hex[:8]}", scopes=list(scopes))
    return f"Api-Key {created.key}"


def make_center(code: str, name: str = "") -> Any:
    from modules.distribution.models import DistributionCenter

    return DistributionCenter.objects.create(center_code=code, name=name or f"Center {code}")


def make_items(count: int, *, sku: str = "SKU-1") -> list[Any]:
    from modules.shipping import services

    return [services.shipping_item_create(sku=sku) for _ in range(count)]


def make_batch(alias: str | None = None, *, items: Iterable[Any] = ()) -> Any:
    from modules.shipping import services

    batch = services.shipping_batch_create(alias=alias)
    numbers = [item.tracking_number for item in items]
    if numbers:
        services.shipping_batch_add_items(alias=batch.alias, tracking_numbers=numbers)
    batch.refresh_from_db()
    return batch


def make_transport(
    source: str = "ABC001",
    destination: str = "ABC002",
    *,
    driver: Any = None,
    batches: Iterable[Any] = (),
    started: bool = False,
    arrived: bool = False,
) -> Any:
    from modules.shipping import services

    transport = services.transport_create(
        source_center_code=source,
        destination_center_code=destination,
        driver_uuid=driver.uuid if driver is not None else None,
    )
    aliases = [batch.alias for batch in batches]
    if aliases:
        services.transport_add_batches(transport_uuid=transport.uuid, aliases=aliases)
    if started or arrived:
        services.transport_start(transport_uuid=transport.uuid)
    if arrived:
        services.transport_complete(transport_uuid=transport.uuid)
    transport.refresh_from_db()
    return transport


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def emitted(detail_type: str) -> list[dict[str, Any]]:
    """The `data` of each outbox event of this type, oldest first (keys in snake_case)."""
    from events.models import OutboxEvent

    rows = OutboxEvent.objects.filter(detail_type=detail_type).order_by("id")
    return [{_snake(k): v for k, v in row.detail["data"].items()} for row in rows]


def outbox_count() -> int:
    from events.models import OutboxEvent

    return OutboxEvent.objects.count()


def errors_of(result: dict[str, Any], mutation: str) -> list[tuple[str | None, str]]:
    """(field, code) of each typed error in a mutation payload."""
    return [(e["field"], e["code"]) for e in result["data"][mutation]["errors"]]
