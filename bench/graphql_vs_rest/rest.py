"""The Django REST Framework variant: nested ModelSerializers over the hand-written querysets.

Connections (`{"edges": [{"node": ...}]}`) are a list serializer, so the JSON matches GraphQL's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Manager
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.graphql_vs_rest import documents, views
from modules.distribution.api import centers_by_code
from modules.shipping.models import ShippingBatch, ShippingItem, Transport
from modules.user.api import users_by_uuid


class ConnectionSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> dict[str, Any]:
        rows = data.all() if isinstance(data, Manager) else data
        return {"edges": [{"node": self.child.to_representation(row)} for row in rows]}

    @property
    def data(self) -> Any:
        # ListSerializer.data wraps a list in ReturnList; a connection is an object.
        return serializers.ReturnDict(self.to_representation(self.instance), serializer=self)


class CenterNameField(serializers.Field):
    """A center code shown as `{"name": ...}`, from the centers looked up once per request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, code: str | None) -> dict[str, str] | None:
        center = self.context["centers"].get(code) if code else None
        return {"name": center.name} if center is not None else None


class BatchAliasSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingBatch
        fields = ["alias"]
        list_serializer_class = ConnectionSerializer


class ShippingItemSerializer(serializers.ModelSerializer):
    trackingNumber = serializers.CharField(source="tracking_number")
    batches = BatchAliasSerializer(many=True)
    currentCenter = CenterNameField(source="current_center_code")

    class Meta:
        model = ShippingItem
        fields = ["trackingNumber", "status", "batches", "currentCenter"]
        list_serializer_class = ConnectionSerializer


class BatchItemSerializer(serializers.ModelSerializer):
    trackingNumber = serializers.CharField(source="tracking_number")
    currentCenter = CenterNameField(source="current_center_code")

    class Meta:
        model = ShippingItem
        fields = ["trackingNumber", "status", "currentCenter"]
        list_serializer_class = ConnectionSerializer


class TransportBatchSerializer(serializers.ModelSerializer):
    items = BatchItemSerializer(many=True, source="item_page")

    class Meta:
        model = ShippingBatch
        fields = ["alias", "items"]
        list_serializer_class = ConnectionSerializer


class TransportSerializer(serializers.ModelSerializer):
    sourceCenter = CenterNameField(source="source_center_code")
    destinationCenter = CenterNameField(source="destination_center_code")
    driver = serializers.SerializerMethodField()
    batches = TransportBatchSerializer(many=True, source="batch_page")

    class Meta:
        model = Transport
        fields = ["sourceCenter", "destinationCenter", "driver", "batches"]
        list_serializer_class = ConnectionSerializer

    def get_driver(self, transport: Transport) -> dict[str, str] | None:
        driver = (
            self.context["drivers"].get(transport.driver_uuid) if transport.driver_uuid else None
        )
        return {"fullName": driver.full_name} if driver is not None else None


class GraphQLDateTimeField(serializers.DateTimeField):
    """A date-time as GraphQL's DateTime writes it (isoformat: `+00:00`, microseconds). DRF's own
    ISO 8601 writes `Z` for UTC, and its JSON encoder cuts microseconds to milliseconds."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value.isoformat() if value is not None else None


class CountedConnectionField(serializers.Field):
    """A nested connection with `totalCount`: the parent row gives both its page's rows and the
    count of its whole list (`rows`, `total`), the child serializer each row's JSON."""

    def __init__(
        self,
        child: serializers.Serializer,
        *,
        rows: Callable[[Any], list[Any]],
        total: Callable[[Any], int],
        **kwargs: Any,
    ) -> None:
        super().__init__(source="*", read_only=True, **kwargs)
        self.child = child
        self.rows = rows
        self.total = total

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        self.child.bind(field_name="", parent=self)

    def to_representation(self, row: Any) -> dict[str, Any]:
        return {
            "totalCount": self.total(row),
            "edges": [{"node": self.child.to_representation(r)} for r in self.rows(row)],
        }


class ArrivalBatchSerializer(serializers.ModelSerializer):
    completedAt = GraphQLDateTimeField(source="completed_at")

    class Meta:
        model = ShippingBatch
        fields = ["alias", "completedAt"]


class ArrivalSerializer(serializers.ModelSerializer):
    arrivedAt = GraphQLDateTimeField(source="arrived_at")
    destinationCenter = CenterNameField(source="destination_center_code")
    batches = CountedConnectionField(
        ArrivalBatchSerializer(),
        rows=lambda transport: transport.batch_page,
        total=lambda transport: transport.batch_total,
    )

    class Meta:
        model = Transport
        fields = ["status", "arrivedAt", "destinationCenter", "batches"]
        list_serializer_class = ConnectionSerializer


class NodeItemSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()
    trackingNumber = serializers.CharField(source="tracking_number")
    createdAt = GraphQLDateTimeField(source="created_at")
    completedAt = GraphQLDateTimeField(source="completed_at")
    batches = CountedConnectionField(
        BatchAliasSerializer(),
        rows=lambda item: item.batches.all()[: documents.NODE_BATCHES_PAGE],
        total=lambda item: len(item.batches.all()),
    )

    class Meta:
        model = ShippingItem
        fields = ["id", "trackingNumber", "status", "createdAt", "completedAt", "batches"]

    def get_id(self, item: ShippingItem) -> str:
        return views.global_id("ShippingItem", item.uuid)


class StaffOnlyView(APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if views.staff_principal(request._request) is None:
            self.permission_denied(request, message="Only staff may do this.")


class ShippingItemList(StaffOnlyView):
    def get(self, request: Request) -> Response:
        items = views.items_page()
        centers = centers_by_code(
            {item.current_center_code for item in items if item.current_center_code}
        )
        page = ShippingItemSerializer(items, many=True, context={"centers": centers})
        return Response({"data": {"shippingItems": page.data}})


class TransportList(StaffOnlyView):
    def get(self, request: Request) -> Response:
        transports = views.transports_page()
        codes = {t.source_center_code for t in transports} | {
            t.destination_center_code for t in transports
        }
        codes |= {
            item.current_center_code
            for t in transports
            for batch in t.batch_page
            for item in batch.item_page
            if item.current_center_code
        }
        context = {
            "centers": centers_by_code(codes),
            "drivers": users_by_uuid(
                {t.driver_uuid for t in transports if t.driver_uuid is not None}
            ),
        }
        page = TransportSerializer(transports, many=True, context=context)
        return Response({"data": {"transports": page.data}})


class ArrivalList(StaffOnlyView):
    def get(self, request: Request) -> Response:
        transports, total = views.arrivals_page()
        item = views.node_item(request.query_params.get(documents.ARRIVALS_ITEM, ""))
        centers = centers_by_code({t.destination_center_code for t in transports})
        page = ArrivalSerializer(transports, many=True, context={"centers": centers})
        node = NodeItemSerializer(item).data if item is not None else None
        return Response({"data": {"transports": {"totalCount": total, **page.data}, "node": node}})
