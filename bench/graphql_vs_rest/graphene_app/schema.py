"""The shipping reads as a graphene-django schema, written the way graphene-django's docs suggest:
DjangoObjectType per model, relay connections, prefetch_related in the root resolvers, and the
cross-module lookups (centers, drivers) done once per request into `info.context`.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.http import HttpRequest
from graphene import relay
from graphene_django import DjangoObjectType
from graphene_django.views import GraphQLView
from graphql import GraphQLError

from modules.auth.credentials import InvalidAccessToken, decode_access_token
from modules.distribution.models import DistributionCenter
from modules.shipping.models import ShippingBatch, ShippingItem, Transport
from modules.user.models import User, UserType
from modules.user.selectors import acting_user


def staff_user(authorization: str | None) -> User | None:
    """What the project's `authenticate` does for a bearer token (same checks, same one query)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = decode_access_token(token.strip())
    except InvalidAccessToken:
        return None
    user = acting_user(claims.user_uuid)
    if user is None or not (user.is_superuser or (user.is_staff and user.type == UserType.STAFF)):
        return None
    return user


def require_staff(info: Any) -> None:
    if getattr(info.context, "staff", None) is None:
        raise GraphQLError("Only staff may do this.", extensions={"code": "FORBIDDEN"})


def load_centers(info: Any, codes: set[str]) -> None:
    info.context.centers = {
        c.center_code: c for c in DistributionCenter.objects.filter(center_code__in=codes)
    }


class Center(graphene.ObjectType):
    name = graphene.String(required=True)


class Driver(graphene.ObjectType):
    full_name = graphene.String(required=True)


def center_of(info: Any, code: str | None) -> DistributionCenter | None:
    return info.context.centers.get(code) if code else None


class ShippingBatchNode(DjangoObjectType):
    class Meta:
        model = ShippingBatch
        name = "ShippingBatch"
        interfaces = (relay.Node,)
        fields = ("alias", "items")


class ShippingItemNode(DjangoObjectType):
    current_center = graphene.Field(Center)

    class Meta:
        model = ShippingItem
        name = "ShippingItem"
        interfaces = (relay.Node,)
        fields = ("tracking_number", "status", "batches")
        convert_choices_to_enum: list[str] = []

    def resolve_current_center(self, info: Any) -> DistributionCenter | None:
        return center_of(info, self.current_center_code)


class TransportNode(DjangoObjectType):
    source_center = graphene.Field(Center)
    destination_center = graphene.Field(Center)
    driver = graphene.Field(Driver)

    class Meta:
        model = Transport
        name = "Transport"
        interfaces = (relay.Node,)
        fields = ("batches",)

    def resolve_source_center(self, info: Any) -> DistributionCenter | None:
        return center_of(info, self.source_center_code)

    def resolve_destination_center(self, info: Any) -> DistributionCenter | None:
        return center_of(info, self.destination_center_code)

    def resolve_driver(self, info: Any) -> Any:
        driver = info.context.drivers.get(self.driver_uuid) if self.driver_uuid else None
        return (
            Driver(full_name=driver.profile.full_name if driver.profile else "") if driver else None
        )


class ShippingItemConnection(relay.Connection):
    class Meta:
        node = ShippingItemNode


class TransportConnection(relay.Connection):
    class Meta:
        node = TransportNode


class Query(graphene.ObjectType):
    shipping_items = relay.ConnectionField(ShippingItemConnection)
    transports = relay.ConnectionField(TransportConnection)

    def resolve_shipping_items(
        self, info: Any, first: int = 100, **kwargs: Any
    ) -> list[ShippingItem]:
        require_staff(info)
        items = list(
            ShippingItem.objects.only("id", "tracking_number", "status", "current_center_code")
            .order_by("-id")
            .prefetch_related("batches")[: min(first, 100)]
        )
        load_centers(info, {i.current_center_code for i in items if i.current_center_code})
        return items

    def resolve_transports(self, info: Any, first: int = 50, **kwargs: Any) -> list[Transport]:
        require_staff(info)
        transports = list(
            Transport.objects.order_by("-id").prefetch_related("batches__items")[: min(first, 100)]
        )
        codes = {t.source_center_code for t in transports} | {
            t.destination_center_code for t in transports
        }
        codes |= {
            item.current_center_code
            for t in transports
            for batch in t.batches.all()
            for item in batch.items.all()
            if item.current_center_code
        }
        load_centers(info, codes)
        driver_uuids = {t.driver_uuid for t in transports if t.driver_uuid}
        drivers = User.objects.filter(uuid__in=driver_uuids).select_related(
            "staff_profile", "driver_profile"
        )
        info.context.drivers = {d.uuid: d for d in drivers}
        return transports


schema = graphene.Schema(query=Query)


class StaffGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.staff = staff_user(request.headers.get("Authorization"))  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)
