"""The hand-written baseline: plain Django views, ORM prefetching, JsonResponse.

They answer with exactly the JSON the GraphQL documents of `documents.py` give, and apply the same
rules: the project's authentication, staff only, rows through the shipping selectors, centers and
drivers through the other modules' `api.py` in one lookup each.
"""

from __future__ import annotations

import binascii
import uuid
from base64 import b64decode, b64encode
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, F, Prefetch
from django.http import HttpRequest, JsonResponse

from bench.graphql_vs_rest import documents
from modules.auth.api import AuthenticationFailed, Principal, authenticate
from modules.distribution.api import CenterSummary, centers_by_code
from modules.shipping import selectors
from modules.shipping.models import ShippingBatch, ShippingItem, Transport, TransportStatus
from modules.user.api import users_by_uuid
from schema.engine import ordinary_execution
from schema.transports.http import GraphQLHTTPView

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def staff_principal(request: HttpRequest) -> Principal | None:
    """The caller when they are staff (the GraphQL fields' `Require(Staff)`), else None."""
    try:
        principal = authenticate(request.headers.get("Authorization"))
    except AuthenticationFailed:
        return None
    return principal if principal.is_staff else None


def forbidden() -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": "Only staff may do this.", "code": "FORBIDDEN"}]}, status=403
    )


def items_page() -> list[ShippingItem]:
    batches = ShippingBatch.objects.only("id", "alias").order_by("-id")
    return list(
        selectors.items_visible(is_staff=True, driver_uuid=None)
        .only("id", "tracking_number", "status", "current_center_code")
        .order_by("-id")
        .prefetch_related(Prefetch("batches", queryset=batches))[: documents.ITEMS_PAGE]
    )


def transports_page() -> list[Any]:
    items = ShippingItem.objects.only(
        "id", "tracking_number", "status", "current_center_code"
    ).order_by("-id")
    batches = ShippingBatch.objects.only("id", "alias", "transport_id").order_by("-id")
    return list(
        selectors.transports_visible(is_staff=True, driver_uuid=None)
        .only("id", "source_center_code", "destination_center_code", "driver_uuid")
        .order_by("-id")
        .prefetch_related(
            # Sliced prefetches (at most 20 batches per transport, 50 items per batch) need to_attr.
            Prefetch(
                "batches", queryset=batches[: documents.BATCHES_PER_TRANSPORT], to_attr="batch_page"
            ),
            Prefetch(
                "batch_page__items",
                queryset=items[: documents.ITEMS_PER_BATCH],
                to_attr="item_page",
            ),
        )[: documents.TRANSPORTS_PAGE]
    )


def center_json(center: CenterSummary | None) -> dict[str, Any] | None:
    return {"name": center.name} if center is not None else None


def connection(nodes: list[Any]) -> dict[str, Any]:
    return {"edges": [{"node": node} for node in nodes]}


def item_json(item: ShippingItem, centers: dict[str, CenterSummary]) -> dict[str, Any]:
    return {
        "trackingNumber": item.tracking_number,
        "status": item.status,
        "batches": connection([{"alias": batch.alias} for batch in item.batches.all()]),
        "currentCenter": center_json(centers.get(item.current_center_code or "")),
    }


def shipping_items(request: HttpRequest) -> JsonResponse:
    if staff_principal(request) is None:
        return forbidden()
    items = items_page()
    centers = centers_by_code(
        {item.current_center_code for item in items if item.current_center_code}
    )
    nodes = [item_json(item, centers) for item in items]
    return JsonResponse({"data": {"shippingItems": connection(nodes)}})


def transports(request: HttpRequest) -> JsonResponse:
    if staff_principal(request) is None:
        return forbidden()
    transports = transports_page()
    items = [item for t in transports for batch in t.batch_page for item in batch.item_page]
    codes = {t.source_center_code for t in transports} | {
        t.destination_center_code for t in transports
    }
    codes |= {item.current_center_code for item in items if item.current_center_code}
    centers = centers_by_code(codes)
    drivers = users_by_uuid({t.driver_uuid for t in transports if t.driver_uuid is not None})
    nodes = []
    for transport in transports:
        driver = drivers.get(transport.driver_uuid) if transport.driver_uuid else None
        batches = [
            {
                "alias": batch.alias,
                "items": connection(
                    [
                        {
                            "trackingNumber": item.tracking_number,
                            "status": item.status,
                            "currentCenter": center_json(
                                centers.get(item.current_center_code or "")
                            ),
                        }
                        for item in batch.item_page
                    ]
                ),
            }
            for batch in transport.batch_page
        ]
        nodes.append(
            {
                "sourceCenter": center_json(centers.get(transport.source_center_code)),
                "destinationCenter": center_json(centers.get(transport.destination_center_code)),
                "driver": {"fullName": driver.full_name} if driver is not None else None,
                "batches": connection(batches),
            }
        )
    return JsonResponse({"data": {"transports": connection(nodes)}})


class ArrivalAnnotations(TypedDict):
    """What `arrivals_page` adds to each transport: its `Count` and its `Prefetch(to_attr=)`."""

    batch_total: int
    batch_page: list[ShippingBatch]


def arrivals_page() -> tuple[list[WithAnnotations[Transport, ArrivalAnnotations]], int]:
    """Read (c)'s transports: arrived, latest arrival first (then newest key, as the schema's
    ordering ends), each with its batch count and its newest batches; and how many arrived."""
    batches = ShippingBatch.objects.only("id", "alias", "completed_at", "transport_id").order_by(
        "-id"
    )
    arrived = selectors.transports_visible(is_staff=True, driver_uuid=None).filter(
        status=TransportStatus.ARRIVED
    )
    page = list(
        arrived.only("id", "status", "destination_center_code", "arrived_at")
        .annotate(batch_total=Count("batches"))
        .order_by(F("arrived_at").desc(nulls_last=True), "-id")
        .prefetch_related(
            Prefetch(
                "batches", queryset=batches[: documents.BATCHES_PER_ARRIVAL], to_attr="batch_page"
            )
        )[: documents.ARRIVALS_PAGE]
    )
    return page, arrived.count()


def item_uuid_of(global_id: str) -> uuid.UUID | None:
    """The uuid a `ShippingItem:<uuid>` global id names, or None (any other id names no item)."""
    try:
        type_name, _, key = b64decode(global_id.encode(), validate=True).decode().partition(":")
        return uuid.UUID(key) if type_name == "ShippingItem" else None
    except (binascii.Error, UnicodeError, ValueError):
        return None


def node_item(global_id: str) -> ShippingItem | None:
    item_uuid = item_uuid_of(global_id)
    if item_uuid is None:
        return None
    batches = ShippingBatch.objects.only("id", "alias").order_by("-id")
    return (
        selectors.items_visible(is_staff=True, driver_uuid=None)
        .only("id", "uuid", "tracking_number", "status", "created_at", "completed_at")
        .prefetch_related(Prefetch("batches", queryset=batches))
        .filter(uuid=item_uuid)
        .first()
    )


def datetime_json(value: Any) -> str | None:
    """A date-time as GraphQL's DateTime gives it (isoformat, offset +00:00)."""
    return value.isoformat() if value is not None else None


def global_id(type_name: str, key: Any) -> str:
    return b64encode(f"{type_name}:{key}".encode()).decode()


def counted_connection(nodes: list[Any], total: int) -> dict[str, Any]:
    return {"totalCount": total, **connection(nodes)}


def node_item_json(item: ShippingItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    batches = list(item.batches.all())
    return {
        "id": global_id("ShippingItem", item.uuid),
        "trackingNumber": item.tracking_number,
        "status": item.status,
        "createdAt": datetime_json(item.created_at),
        "completedAt": datetime_json(item.completed_at),
        "batches": counted_connection(
            [{"alias": batch.alias} for batch in batches[: documents.NODE_BATCHES_PAGE]],
            len(batches),
        ),
    }


def arrivals(request: HttpRequest) -> JsonResponse:
    if staff_principal(request) is None:
        return forbidden()
    transports, total = arrivals_page()
    item = node_item(request.GET.get(documents.ARRIVALS_ITEM, ""))
    centers = centers_by_code({t.destination_center_code for t in transports})
    nodes = [
        {
            "status": transport.status,
            "arrivedAt": datetime_json(transport.arrived_at),
            "destinationCenter": center_json(centers.get(transport.destination_center_code)),
            "batches": counted_connection(
                [
                    {"alias": batch.alias, "completedAt": datetime_json(batch.completed_at)}
                    for batch in transport.batch_page
                ],
                transport.batch_total,
            ),
        }
        for transport in transports
    ]
    return JsonResponse(
        {"data": {"transports": counted_connection(nodes, total), "node": node_item_json(item)}}
    )


class OrdinaryGraphQLView(GraphQLHTTPView):
    """The project's GraphQL endpoint with schema/execution.py's shortcuts off (same results):
    the "before" of those shortcuts, measured in the same run."""

    def _execute(self, *args: Any, **kwargs: Any) -> Any:
        with ordinary_execution():
            return super()._execute(*args, **kwargs)
