"""The hand-written baseline: plain Django views, ORM prefetching, JsonResponse.

They answer with exactly the JSON the GraphQL documents of `documents.py` give, and apply the same
rules: the project's authentication, staff only, rows through the shipping selectors, centers and
drivers through the other modules' `api.py` in one lookup each.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse

from bench.graphql_vs_rest import documents
from modules.auth.api import AuthenticationFailed, Principal, authenticate
from modules.distribution.api import CenterSummary, centers_by_code
from modules.shipping import selectors
from modules.shipping.models import ShippingBatch, ShippingItem
from modules.user.api import users_by_uuid
from schema.engine import ordinary_execution
from schema.transports.http import GraphQLHTTPView


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


class OrdinaryGraphQLView(GraphQLHTTPView):
    """The project's GraphQL endpoint with schema/execution.py's shortcuts off (same results):
    the "before" of those shortcuts, measured in the same run."""

    def _execute(self, *args: Any, **kwargs: Any) -> Any:
        with ordinary_execution():
            return super()._execute(*args, **kwargs)
