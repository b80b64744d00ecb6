"""FilterSets behind `distributionCenters(filter, order)` (exposed through schema/filters.py)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from modules.distribution.models import DistributionCenter, normalize_center_code


class DistributionCenterFilterSet(django_filters.FilterSet):
    center_code = django_filters.CharFilter(
        method="filter_center_code", label="Exactly this center code."
    )
    center_code_in = django_filters.BaseInFilter(
        method="filter_center_code_in", label="Any of these center codes."
    )
    name_contains = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label="Name contains this text (any case)."
    )

    order = django_filters.OrderingFilter(
        fields=(("center_code", "centerCode"), ("name", "name"), ("created_at", "createdAt")),
    )

    class Meta:
        model = DistributionCenter
        fields: list[str] = []

    def filter_center_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(center_code=normalize_center_code(value))

    def filter_center_code_in(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(center_code__in=[normalize_center_code(v) for v in value])
