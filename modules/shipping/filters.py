"""FilterSets of the shipping lists; schema/filters.py makes them `<Type>Filter`/`<Type>Order`."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from modules.shipping.models import (
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
)


class ShippingItemFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ShippingItemStatus.choices, label="Items in this status."
    )
    sku = django_filters.CharFilter(label="Items with exactly this SKU.")
    current_center_code = django_filters.CharFilter(
        method="filter_center_code", label="Items now at the center with this code."
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Items created at or after this time."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Items created before this time."
    )
    order = django_filters.OrderingFilter(
        fields=(
            ("created_at", "createdAt"),
            ("completed_at", "completedAt"),
            ("tracking_number", "trackingNumber"),
            ("status", "status"),
        )
    )

    class Meta:
        model = ShippingItem
        fields: list[str] = []

    def filter_center_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Center codes are stored canonical (upper case); accept them typed any way.
        return queryset.filter(current_center_code=value.strip().upper())


class ShippingBatchFilterSet(django_filters.FilterSet):
    completed = django_filters.BooleanFilter(label="Completed (arrived) batches, or open ones.")
    on_transport = django_filters.BooleanFilter(
        field_name="transport",
        lookup_expr="isnull",
        exclude=True,
        label="Batches on a transport, or not.",
    )
    order = django_filters.OrderingFilter(
        fields=(
            ("created_at", "createdAt"),
            ("completed_at", "completedAt"),
            ("alias", "alias"),
        )
    )

    class Meta:
        model = ShippingBatch
        fields: list[str] = []


class TransportFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=TransportStatus.choices, label="Transports in this status."
    )
    driver_uuid = django_filters.UUIDFilter(label="Transports driven by this user.")
    source_center_code = django_filters.CharFilter(
        method="filter_center_code", label="Transports leaving the center with this code."
    )
    destination_center_code = django_filters.CharFilter(
        method="filter_center_code", label="Transports going to the center with this code."
    )
    order = django_filters.OrderingFilter(
        fields=(
            ("created_at", "createdAt"),
            ("departed_at", "departedAt"),
            ("arrived_at", "arrivedAt"),
        )
    )

    class Meta:
        model = Transport
        fields: list[str] = []

    def filter_center_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{name: value.strip().upper()})
