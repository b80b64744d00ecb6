"""Django admin for shipping. Rows are read-only here: creation and every state change go through
the services (add forms run the service in `clean()`, so its refusals show as form errors; actions
call the service once per row and report what was refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from modules.shipping import services
from modules.shipping.models import (
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
)


class ServiceAddForm(forms.ModelForm):
    """An add form whose `clean()` creates the row through a service (inside the admin's own
    transaction), so a refusal is shown next to the field it concerns."""

    created: Model | None = None
    Meta: ClassVar[Any]  # each add form declares its own (fields, model)

    def create(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # ModelForm's returns its cleaned_data
        if self.errors:
            return data
        try:
            self.created = self.create(data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)
            else:
                self.add_error(None, exc)
        return data

    def _post_clean(self) -> None:
        # The service validated and saved the row; validating the unsaved copy again would only
        # find the "duplicate" of the row just created.
        pass


class ServiceAddAdmin(admin.ModelAdmin):
    add_form: type[ServiceAddForm]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = list(self.add_form.Meta.fields)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        # No inlines on the add page: the service has already written the row once the form is
        # valid, so nothing else on the page may fail validation after it.
        return () if obj is None else super().get_inlines(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return list(self.add_form.Meta.fields)
        return self.get_readonly_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable after creation
        created = form.created
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # items, batches and transports are history

    def has_change_state_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def run_for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: QuerySet,
    action: Callable[[Any], Any],
    done: str,
) -> None:
    succeeded = 0
    for row in rows:
        try:
            action(row)
            succeeded += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{row}: {' '.join(exc.messages)}", messages.ERROR)
        except PermissionDenied as exc:
            modeladmin.message_user(request, f"{row}: {exc or 'Not allowed.'}", messages.ERROR)
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    model = BatchMembership
    extra = 0
    can_delete = False
    readonly_fields = ("batch", "item", "batch_open", "added_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShippingItemAddForm(ServiceAddForm):
    class Meta:
        model = ShippingItem
        fields = ("sku",)

    def create(self, data: dict[str, Any]) -> Model:
        return services.shipping_item_create(sku=data["sku"])


@admin.register(ShippingItem)
class ShippingItemAdmin(ServiceAddAdmin):
    add_form = ShippingItemAddForm
    list_display = (
        "tracking_number",
        "sku",
        "status",
        "current_center_code",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "created_at", "completed_at")
    search_fields = ("=tracking_number", "=sku")
    inlines = (MembershipInline,)
    actions = ("mark_damaged", "mark_lost")

    def _mark(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        run_for_each(
            self,
            request,
            queryset,
            lambda item: services.shipping_item_status_change(
                tracking_number=item.tracking_number, status=status
            ),
            f"Marked {status}",
        )

    @admin.action(description="Mark selected items DAMAGED", permissions=["change_state"])
    def mark_damaged(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._mark(request, queryset, ShippingItemStatus.DAMAGED)

    @admin.action(description="Mark selected items LOST", permissions=["change_state"])
    def mark_lost(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._mark(request, queryset, ShippingItemStatus.LOST)


class ShippingBatchAddForm(ServiceAddForm):
    alias = forms.CharField(max_length=20, required=False, help_text="Generated when left blank.")

    class Meta:
        model = ShippingBatch
        fields = ("alias",)

    def create(self, data: dict[str, Any]) -> Model:
        return services.shipping_batch_create(alias=data.get("alias") or None)


@admin.register(ShippingBatch)
class ShippingBatchAdmin(ServiceAddAdmin):
    add_form = ShippingBatchAddForm
    list_display = (
        "alias",
        "completed",
        "transport",
        "created_at",
        "transport_assigned_at",
        "completed_at",
    )
    list_filter = ("completed", "created_at")
    search_fields = ("=alias",)
    list_select_related = ("transport",)
    inlines = (MembershipInline,)


class TransportAddForm(ServiceAddForm):
    class Meta:
        model = Transport
        fields = ("source_center_code", "destination_center_code", "driver_uuid")

    def create(self, data: dict[str, Any]) -> Model:
        return services.transport_create(
            source_center_code=data["source_center_code"],
            destination_center_code=data["destination_center_code"],
            driver_uuid=data.get("driver_uuid"),
        )


@admin.register(Transport)
class TransportAdmin(ServiceAddAdmin):
    add_form = TransportAddForm
    list_display = (
        "uuid",
        "status",
        "source_center_code",
        "destination_center_code",
        "driver_uuid",
        "created_at",
        "departed_at",
        "arrived_at",
    )
    list_filter = ("status", "created_at", "departed_at", "arrived_at")
    search_fields = ("=uuid", "=source_center_code", "=destination_center_code", "=driver_uuid")
    actions = ("start", "complete")

    @admin.action(description="Start selected transports (depart)", permissions=["change_state"])
    def start(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_for_each(
            self,
            request,
            queryset,
            lambda t: services.transport_start(transport_uuid=t.uuid),
            "Started",
        )

    @admin.action(description="Complete selected transports (arrive)", permissions=["change_state"])
    def complete(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_for_each(
            self,
            request,
            queryset,
            lambda t: services.transport_complete(transport_uuid=t.uuid),
            "Completed",
        )


@admin.register(BatchMembership)
class BatchMembershipAdmin(admin.ModelAdmin):
    """Which item is in which batch (read-only: memberships change through addItemsToBatch)."""

    list_display = ("item", "batch", "batch_open", "added_at")
    list_filter = ("batch_open",)
    search_fields = ("=item__tracking_number", "=batch__alias")
    list_select_related = ("item", "batch")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
