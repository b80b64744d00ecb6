"""FilterSet of the bulkJobs list; schema/kit/filters.py makes it `BulkJobFilter`/`BulkJobOrder`."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from modules.jobs.models import UNFINISHED_STATUSES, BulkJob, BulkJobStatus


class BulkJobFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=BulkJobStatus.choices, label="Jobs in this status."
    )
    kind = django_filters.CharFilter(label="Jobs of this kind (e.g. shipping.importItems).")
    running = django_filters.BooleanFilter(
        method="filter_running", label="Jobs still queued or running (true), or finished (false)."
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Jobs created at or after this time."
    )
    order = django_filters.OrderingFilter(
        fields=(
            ("created_at", "createdAt"),
            ("finished_at", "finishedAt"),
            ("status", "status"),
        )
    )

    class Meta:
        model = BulkJob
        fields: list[str] = []

    def filter_running(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value:
            return queryset.filter(status__in=UNFINISHED_STATUSES)
        return queryset.exclude(status__in=UNFINISHED_STATUSES)
