"""Admin for distribution. Changes go through the services: validated, and they emit events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from modules.distribution import services
from modules.distribution.models import (
    AnnouncedMovement,
    CenterInventoryItem,
    CenterReference,
    CenterStaffMember,
    DistributionCenter,
    TransportMovement,
    normalize_center_code,
)
from modules.user.api import users_by_uuid

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups  # django-stubs' name, not Django's


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class DistributionCenterForm(forms.ModelForm):
    class Meta:
        model = DistributionCenter
        fields = ("center_code", "name")

    def clean_center_code(self) -> str:
        if self.instance.pk is not None:
            code: str = self.instance.center_code  # the form's instance: a DistributionCenter
            return code
        try:
            return services.center_code_validated(self.cleaned_data["center_code"])
        except ValidationError as exc:
            raise ValidationError(exc.error_dict["center_code"]) from exc


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by domain flows (claims, departures, arrivals): shown, never edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DistributionCenter)
class DistributionCenterAdmin(admin.ModelAdmin):
    form = DistributionCenterForm
    list_display = ("center_code", "name", "uuid", "created_at")
    search_fields = ("center_code", "name")
    ordering = ("center_code",)
    readonly_fields = ("uuid", "created_at", "staff")
    actions = ["delete_centers"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The code is the center's public identity: fixed once created.
        return (*self.readonly_fields, "center_code") if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        return (
            ["center_code", "name"]
            if obj is None
            else ["center_code", "name", "uuid", "created_at", "staff"]
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop(
            "delete_selected", None
        )  # replaced by delete_centers, which goes through the service
        return actions

    @admin.display(description="Staff")
    def staff(self, center: DistributionCenter) -> str:
        uuids = list(center.staff_members.values_list("user_uuid", flat=True))
        users = users_by_uuid(uuids)
        rows = [
            (users[u].username, users[u].full_name) if u in users else (f"unknown user {u}", "")
            for u in uuids
        ]
        return format_html_join("", "<div>{} {}</div>", rows) or "-"

    def save_model(
        self, request: HttpRequest, obj: DistributionCenter, form: Any, change: bool
    ) -> None:
        try:
            if change:
                saved = services.center_update(center_code=obj.center_code, name=obj.name)
            else:
                saved = services.center_create(center_code=obj.center_code, name=obj.name)
        except ValidationError as exc:
            self.message_user(request, _messages_of(exc), messages.ERROR)
            return
        obj.pk, obj.uuid, obj.created_at = saved.pk, saved.uuid, saved.created_at

    def delete_model(self, request: HttpRequest, obj: DistributionCenter) -> None:
        try:
            services.center_delete(center_code=obj.center_code)
        except ValidationError as exc:
            self.message_user(request, _messages_of(exc), messages.ERROR)

    # Needs the delete permission, like the delete page (GraphQL: staff, which every admin user is).
    @admin.action(
        description="Delete the selected centers (those not in use)", permissions=["delete"]
    )
    def delete_centers(self, request: HttpRequest, queryset: QuerySet[DistributionCenter]) -> None:
        for center in queryset:
            try:
                services.center_delete(center_code=center.center_code)
            except ValidationError as exc:
                self.message_user(request, _messages_of(exc), messages.ERROR)
            else:
                self.message_user(request, f"Deleted {center.center_code}.", messages.SUCCESS)


class CenterStaffMemberForm(forms.ModelForm):
    class Meta:
        model = CenterStaffMember
        fields = ("center", "user_uuid")

    def clean_user_uuid(self) -> Any:
        try:
            return services.staff_users_validated([self.cleaned_data["user_uuid"]])[0]
        except ValidationError as exc:
            raise ValidationError(exc.error_dict["user_uuids"]) from exc

    def validate_unique(self) -> None:
        # Adding someone who is already on the staff is a no-op in the service, not an error.
        return None


@admin.register(CenterStaffMember)
class CenterStaffMemberAdmin(admin.ModelAdmin):
    form = CenterStaffMemberForm
    list_display = ("center", "user_uuid", "added_at")
    list_filter = ("center",)
    search_fields = ("user_uuid", "center__center_code")
    actions = ["remove_members"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: CenterStaffMember, form: Any, change: bool
    ) -> None:
        try:
            center = services.center_staff_add(
                center_code=obj.center.center_code, user_uuids=[obj.user_uuid]
            )
        except ValidationError as exc:
            self.message_user(request, _messages_of(exc), messages.ERROR)
            return
        member = CenterStaffMember.objects.get(center=center, user_uuid=obj.user_uuid)
        obj.pk, obj.added_at = member.pk, member.added_at

    def delete_model(self, request: HttpRequest, obj: CenterStaffMember) -> None:
        try:
            services.center_staff_remove(
                center_code=obj.center.center_code, user_uuids=[obj.user_uuid]
            )
        except ValidationError as exc:
            self.message_user(request, _messages_of(exc), messages.ERROR)

    # Needs the delete permission, like the delete page (GraphQL: staff, which every admin user is).
    @admin.action(
        description="Remove the selected members from their centers", permissions=["delete"]
    )
    def remove_members(self, request: HttpRequest, queryset: QuerySet[CenterStaffMember]) -> None:
        for member in queryset.select_related("center"):
            self.delete_model(request, member)


@admin.register(CenterReference)
class CenterReferenceAdmin(ReadOnlyAdmin):
    list_display = ("holder", "center", "created_at")
    search_fields = ("holder", "center__center_code")


@admin.register(CenterInventoryItem)
class CenterInventoryItemAdmin(ReadOnlyAdmin):
    list_display = ("tracking_number", "center", "arrived_at", "transport_uuid")
    list_filter = ("center",)
    search_fields = ("tracking_number", "transport_uuid")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Center codes are stored upper case; let people type them in any case.
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if search_term:
            queryset |= self.model.objects.filter(
                center__center_code=normalize_center_code(search_term)
            )
        return queryset, distinct


@admin.register(TransportMovement)
class TransportMovementAdmin(ReadOnlyAdmin):
    list_display = ("kind", "transport_uuid", "center", "recorded_at")
    list_filter = ("kind",)
    search_fields = ("transport_uuid",)


@admin.register(AnnouncedMovement)
class AnnouncedMovementAdmin(ReadOnlyAdmin):
    """Movements shipping announced that the distribution function has not recorded yet."""

    list_display = ("kind", "transport_uuid", "center_code", "announced_at")
    list_filter = ("kind",)
    search_fields = ("transport_uuid", "center_code")
