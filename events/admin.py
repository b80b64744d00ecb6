"""The outbox in the admin: read-only rows, and re-driving dead events through the service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from events.catalog import for_live_subscribers
from events.models import Heartbeat, OutboxEvent
from events.services import dead_events_redrive


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = (
        "detail_type",
        "source",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "source", "detail_type")
    search_fields = ("event_id", "detail_type")
    ordering = ("-id",)
    actions = ("redrive",)
    # The outbox is written by emit and the relay only; the admin looks and re-drives. The detail
    # is shown as live subscribers see it: a phone number is for the function that needs it only.
    readonly_fields = [
        "shown_detail" if f.name == "detail" else f.name for f in OutboxEvent._meta.fields
    ]
    exclude = ("detail",)

    @admin.display(description="detail (sensitive fields left out)")
    def shown_detail(self, obj: OutboxEvent) -> Any:
        envelope = {"detailType": obj.detail_type, "detail": obj.detail}
        return for_live_subscribers(envelope)["detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Re-drive the selected dead events")
    def redrive(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        dead = list(
            queryset.filter(status=OutboxEvent.Status.DEAD).values_list("event_id", flat=True)
        )
        if not dead:
            self.message_user(request, "None of the selected events is dead.", messages.WARNING)
            return
        count = dead_events_redrive(event_ids=dead)
        self.message_user(
            request, f"{count} dead event(s) will be delivered again.", messages.SUCCESS
        )


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "received_at")
    readonly_fields = ("name", "received_at", "tasks")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
