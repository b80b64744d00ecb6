"""Arrange logistics through the public API of a live server, as staff would."""

from __future__ import annotations

import uuid
from typing import Any

from tests.live.server import LiveServer


def _ok(result: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in result, result
    payload = result["data"][field]
    assert payload["errors"] == [], payload
    return payload


def create_center(server: LiveServer, token: str, code: str | None = None) -> str:
    code = code or f"C-{uuid.uuid4().hex[:8].upper()}"
    _ok(
        server.graphql(
            "mutation($input: CreateDistributionCenterInput!) {"
            " createDistributionCenter(input: $input) { errors { code message } } }",
            {"input": {"centerCode": code, "name": f"Center {code}"}},
            token=token,
        ),
        "createDistributionCenter",
    )
    return code


def create_loaded_transport(server: LiveServer, token: str, driver_uuid: str) -> dict[str, Any]:
    """Two centers, one item in one batch, and a transport carrying the batch, not yet started."""
    source, destination = create_center(server, token), create_center(server, token)
    item = _ok(
        server.graphql(
            'mutation { createShippingItem(input: {sku: "SKU-1"}) {'
            " shippingItem { trackingNumber } errors { code message } } }",
            token=token,
        ),
        "createShippingItem",
    )["shippingItem"]
    batch = _ok(
        server.graphql(
            "mutation { createShippingBatch { shippingBatch { alias } errors { code message } } }",
            token=token,
        ),
        "createShippingBatch",
    )["shippingBatch"]
    _ok(
        server.graphql(
            "mutation($alias: String!, $numbers: [String!]!) {"
            " addItemsToBatch(alias: $alias, trackingNumbers: $numbers) {"
            " errors { code message } } }",
            {"alias": batch["alias"], "numbers": [item["trackingNumber"]]},
            token=token,
        ),
        "addItemsToBatch",
    )
    transport = _ok(
        server.graphql(
            "mutation($input: CreateTransportInput!) { createTransport(input: $input) {"
            " transport { uuid } errors { code message } } }",
            {
                "input": {
                    "sourceCenterCode": source,
                    "destinationCenterCode": destination,
                    "driverUuid": driver_uuid,
                }
            },
            token=token,
        ),
        "createTransport",
    )["transport"]
    _ok(
        server.graphql(
            "mutation($uuid: UUID!, $aliases: [String!]!) {"
            " addBatchesToTransport(transportUuid: $uuid, aliases: $aliases) {"
            " errors { code message } } }",
            {"uuid": transport["uuid"], "aliases": [batch["alias"]]},
            token=token,
        ),
        "addBatchesToTransport",
    )
    return {"uuid": transport["uuid"], "source": source, "destination": destination}


def start_transport(server: LiveServer, token: str, transport_uuid: str) -> dict[str, Any]:
    return _ok(
        server.graphql(
            "mutation($uuid: UUID!) { startTransport(transportUuid: $uuid) {"
            " transport { uuid status } errors { code message } } }",
            {"uuid": transport_uuid},
            token=token,
        ),
        "startTransport",
    )
