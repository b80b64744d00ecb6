"""Admin for auth: API keys and sessions, read-only (secrets exist only as digests).

Revoking keys and signing out sessions is for superusers only, as in GraphQL: keys are made by a
superuser (`createApiKey`), and a user may end only their own session (`signOut`); only a
superuser ends other people's (`banUser`). Django's model permissions alone are not enough.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from modules.auth import services
from modules.auth.models import ApiKey, RefreshTokenFamily


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_superuser_permission(self, request: HttpRequest) -> bool:
        # For `@admin.action(permissions=["superuser"])`: hidden from, and refused to, the rest.
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are made with `manage.py create_api_key` or `createApiKey` (shown once), not here."""

    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    readonly_fields = (
        "name",
        "prefix",
        "key_digest",
        "scopes",
        "created_at",
        "created_by_uuid",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.action(description="Revoke selected API keys", permissions=["superuser"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(name=api_key.name)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the revoke action; every field stays read-only.
        return super(ReadOnlyAdmin, self).has_change_permission(request, obj)


@admin.register(RefreshTokenFamily)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "user_uuid", "created_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("=user_uuid", "=uuid")
    readonly_fields = ("uuid", "user_uuid", "created_at", "revoked_at", "revoked_reason")
    actions = ("sign_out",)

    @admin.action(description="Sign out selected sessions", permissions=["superuser"])
    def sign_out(self, request: HttpRequest, queryset: QuerySet[RefreshTokenFamily]) -> None:
        count = services.sessions_revoke(
            session_uuids=[family.uuid for family in queryset], reason="admin"
        )
        self.message_user(request, f"Signed out {count} session(s).", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super(ReadOnlyAdmin, self).has_change_permission(request, obj)
