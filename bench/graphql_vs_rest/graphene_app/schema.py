"""The shipping reads as a graphene-django schema, written the way graphene-django's docs suggest:
DjangoObjectType per model, relay connections, prefetch_related in the root resolvers, and the
cross-module lookups (centers, drivers) done once per request into `info.context`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import graphene
from django.db.models import F, QuerySet
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


def selects(info: Any, *path: str) -> bool:
    """Whether the field's selection reads `path` (field names, fragments not followed): the
    root resolvers prefetch only what the document reads."""
    nodes = list(info.field_nodes)
    for name in path:
        nodes = [
            selection
            for node in nodes
            if node.selection_set is not None
            for selection in node.selection_set.selections
            if getattr(getattr(selection, "name", None), "value", None) == name
        ]
        if not nodes:
            return False
    return True


def enum_value(value: Any) -> Any:
    """An enum argument's value (graphene 3 passes the member)."""
    return getattr(value, "value", value)


class Page(list):
    """A root resolver's rows, with the count of the whole list (`totalCount`)."""

    total: int | None = None

    def __init__(self, rows: Iterable[Any], total: int | None = None) -> None:
        super().__init__(rows)
        self.total = total


class CountedConnection(relay.Connection):
    """A relay connection with `totalCount`, as graphene-django's docs extend one."""

    class Meta:
        abstract = True

    total_count = graphene.Int(required=True)

    def resolve_total_count(self, info: Any) -> int:
        length = getattr(self, "length", None)  # set by DjangoConnectionField (nested pages)
        if length is not None:
            return length
        total = getattr(self.iterable, "total", None)  # a root resolver's Page
        return total if total is not None else len(self.iterable)


class TransportStatus(graphene.Enum):
    CREATED = "CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    ARRIVED = "ARRIVED"


class OrderDirection(graphene.Enum):
    ASC = "ASC"
    DESC = "DESC"


class TransportOrderField(graphene.Enum):
    CREATED_AT = "created_at"
    DEPARTED_AT = "departed_at"
    ARRIVED_AT = "arrived_at"


class TransportFilter(graphene.InputObjectType):
    status = TransportStatus()


class TransportOrder(graphene.InputObjectType):
    field = TransportOrderField(required=True)
    direction = OrderDirection(default_value=OrderDirection.DESC.value)


def transports_ordered(queryset: QuerySet, order: Any) -> QuerySet:
    """The project's ordering (schema/filters.py): the field with NULLs last, then the key."""
    if order is None:
        return queryset.order_by("-id")
    field = F(enum_value(order.field))
    if enum_value(order.direction) == OrderDirection.ASC.value:
        return queryset.order_by(field.asc(nulls_last=True), "id")
    return queryset.order_by(field.desc(nulls_last=True), "-id")


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
        fields = ("alias", "items", "completed_at")
        connection_class = CountedConnection


class ShippingItemNode(DjangoObjectType):
    current_center = graphene.Field(Center)

    class Meta:
        model = ShippingItem
        name = "ShippingItem"
        interfaces = (relay.Node,)
        fields = ("tracking_number", "status", "batches", "created_at", "completed_at")
        convert_choices_to_enum: list[str] = []
        connection_class = CountedConnection

    def resolve_current_center(self, info: Any) -> DistributionCenter | None:
        return center_of(info, self.current_center_code)

    def resolve_id(self, info: Any) -> str:
        return str(self.uuid)  # the project's node ids wrap the uuid, not the integer key

    @classmethod
    def get_node(cls, info: Any, id: str) -> ShippingItem | None:
        require_staff(info)
        try:
            key = uuid.UUID(id)
        except ValueError:
            return None
        return (
            ShippingItem.objects.only(
                "id", "uuid", "tracking_number", "status", "created_at", "completed_at"
            )
            .prefetch_related("batches")
            .filter(uuid=key)
            .first()
        )


class TransportNode(DjangoObjectType):
    status = graphene.Field(TransportStatus, required=True)
    source_center = graphene.Field(Center)
    destination_center = graphene.Field(Center)
    driver = graphene.Field(Driver)

    class Meta:
        model = Transport
        name = "Transport"
        interfaces = (relay.Node,)
        fields = ("batches", "arrived_at")

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


class TransportConnection(CountedConnection):
    class Meta:
        node = TransportNode


class Query(graphene.ObjectType):
    node = relay.Node.Field()
    shipping_items = relay.ConnectionField(ShippingItemConnection)
    transports = relay.ConnectionField(
        TransportConnection, filter=TransportFilter(), order=TransportOrder()
    )

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

    def resolve_transports(
        self, info: Any, first: int = 50, filter: Any = None, order: Any = None, **kwargs: Any
    ) -> Page:
        require_staff(info)
        queryset = Transport.objects.all()
        if filter is not None and filter.status is not None:
            queryset = queryset.filter(status=enum_value(filter.status))
        queryset = transports_ordered(queryset, order)
        node = ("edges", "node")
        with_items = selects(info, *node, "batches", "edges", "node", "items")
        transports = Page(
            queryset.prefetch_related("batches__items" if with_items else "batches")[
                : min(first, 100)
            ],
            total=queryset.count() if selects(info, "totalCount") else None,
        )
        codes = {t.source_center_code for t in transports} | {
            t.destination_center_code for t in transports
        }
        if with_items:
            codes |= {
                item.current_center_code
                for t in transports
                for batch in t.batches.all()
                for item in batch.items.all()
                if item.current_center_code
            }
        load_centers(info, codes)
        if selects(info, *node, "driver"):
            driver_uuids = {t.driver_uuid for t in transports if t.driver_uuid}
            drivers = User.objects.filter(uuid__in=driver_uuids).select_related(
                "staff_profile", "driver_profile"
            )
            info.context.drivers = {d.uuid: d for d in drivers}
        return transports


schema = graphene.Schema(query=Query)


class StaffGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.staff = staff_user(request.headers.get("Authorization"))  # type: ignore[attr-defined]  # read by the resolvers
        return super().dispatch(request, *args, **kwargs)
