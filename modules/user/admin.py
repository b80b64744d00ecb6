"""Admin for users. Ban and unregister go through the services (one event each); nobody deletes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from modules.user import services
from modules.user.models import DriverProfile, StaffProfile, User, UserType


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    extra = 0
    max_num = 1


class DriverProfileInline(admin.StackedInline):
    model = DriverProfile
    can_delete = False
    extra = 0
    max_num = 1


class UserAddForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "type", "phone_number")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserAddForm
    list_display = ("username", "uuid", "type", "is_staff", "is_active", "banned", "date_joined")
    list_filter = ("type", "is_staff", "is_superuser", "is_active", "banned")
    search_fields = (
        "username",
        "=uuid",
        "=phone_number",
        "staff_profile__full_name",
        "driver_profile__full_name",
    )
    ordering = ("-date_joined",)
    readonly_fields = (
        "uuid",
        "type",
        "banned",
        "banned_at",
        "banned_phone_digest",
        "unregistered_at",
        "date_joined",
        "last_login",
    )
    fieldsets = (
        (None, {"fields": ("uuid", "username", "password", "type", "phone_number")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            "State",
            {
                "fields": (
                    "banned",
                    "banned_at",
                    "banned_phone_digest",
                    "unregistered_at",
                    "date_joined",
                    "last_login",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "type", "phone_number", "password1", "password2"),
            },
        ),
    )
    actions = ("ban_users", "unregister_users")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The type decides which profile a user has, so it is chosen once, when adding.
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [DriverProfileInline] if obj.type == UserType.DRIVER else [StaffProfileInline]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            profile_model = DriverProfile if obj.type == UserType.DRIVER else StaffProfile
            profile_model.objects.get_or_create(user=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # users are banned or unregistered (anonymised), never deleted

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _run(self, request: HttpRequest, queryset: QuerySet[User], verb: str, action: Any) -> None:
        done = 0
        for user in queryset:
            try:
                action(user)
                done += 1
            except (ValidationError, ObjectDoesNotExist) as exc:
                self.message_user(
                    request,
                    f"{user.username}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                    messages.ERROR,
                )
        if done:
            self.message_user(request, f"{verb} {done} user(s).", messages.SUCCESS)

    @admin.action(
        description="Ban selected users (anonymise; their numbers can never sign up again)"
    )
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(
            request,
            queryset,
            "Banned",
            lambda user: services.user_ban(user_uuid=user.uuid, banned_by_uuid=request.user.uuid),
        )

    @admin.action(description="Unregister selected users (anonymise and deactivate)")
    def unregister_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(
            request,
            queryset,
            "Unregistered",
            lambda user: services.user_unregister(user_uuid=user.uuid),
        )
