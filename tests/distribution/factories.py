"""Arrange helpers for distribution tests: centers, API keys, and what was emitted."""

from __future__ import annotations

import uuid
from typing import Any


def api_key(*scopes: str) -> str:
    """An `Authorization` value for a fresh API key with `scopes`."""
    from modules.auth.services import api_key_create

    created = api_key_create(name=f"test-{uuid.uuid4().hex[:8]}", scopes=list(scopes))
    return f"Api-Key {created.key}"


def make_center(code: str, name: str = "", **extra: Any) -> Any:
    from modules.distribution.models import DistributionCenter

    return DistributionCenter.objects.create(
        center_code=code, name=name or f"Center {code}", **extra
    )


def emitted(detail_type: str) -> list[dict[str, Any]]:
    """The `data` of each outbox event of this type, oldest first."""
    from events.models import OutboxEvent

    return [
        row.detail["data"]
        for row in OutboxEvent.objects.filter(detail_type=detail_type).order_by("id")
    ]


# What each movement's announcing event is, and the data key naming its center.
ANNOUNCING = {
    "DEPARTURE": ("TransportStarted", "sourceCenterCode"),
    "ARRIVAL": ("TransportCompleted", "destinationCenterCode"),
}


def announce(kind: str, transport: uuid.UUID | str, code: str, numbers: list[str]) -> None:
    """As if shipping emitted TransportStarted ("DEPARTURE") or TransportCompleted ("ARRIVAL"):
    distribution's listener notes the movement, which recordDeparture / recordArrival then take."""
    from events.listeners import notify

    detail_type, center_key = ANNOUNCING[kind]
    data = {"transportUuid": str(transport), center_key: code, "trackingNumbers": numbers}
    notify("shipping", detail_type, data)


def payload_errors(result: dict[str, Any], mutation: str) -> list[dict[str, Any]]:
    return result["data"][mutation]["errors"]


def error_codes(result: dict[str, Any], mutation: str) -> list[str]:
    return [e["code"] for e in payload_errors(result, mutation)]


RECORD_ARRIVAL = """
mutation Arrive($transport: UUID!, $code: String!, $numbers: [String!]!) {
  recordArrival(transportUuid: $transport, centerCode: $code, trackingNumbers: $numbers) {
    errors { code }
  }
}
"""


def record_arrival(gql: Any, key: str, code: str, numbers: list[str]) -> None:
    """Put items into a center's inventory the way the distribution function does."""
    transport = uuid.uuid4()
    announce("ARRIVAL", transport, code, numbers)
    variables = {"transport": str(transport), "code": code, "numbers": numbers}
    assert gql(RECORD_ARRIVAL, variables, as_=key)["data"]["recordArrival"]["errors"] == []
