"""Admin for auth: API keys and sessions, read-only (secrets exist only as digests).

Revoking keys and signing out sessions is for superusers only, as in GraphQL: keys are made by a
superuser (`createApiKey`), and a user may end only their own session (`signOut`); only a
superuser ends other people's (`banUser`). Django's model permissions alone are not enough.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from modules.auth import services
from modules.auth.api import client_address_from
from modules.auth.errors import AuthErrorCode
from modules.auth.models import ApiKey, RefreshTokenFamily

TOO_MANY_SIGN_INS = "Too many sign-in attempts; wait a minute and try again."


class RateLimitedAdminLoginForm(AdminAuthenticationForm):
    """/admin/login/ under the limits of signInWithPassword (services.password_attempt_limited):
    past them no password is checked, the right one included."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # Django's own "required" errors; nothing was checked
        request = self.request
        client = client_address_from(
            request.META.get("REMOTE_ADDR") if request else None,
            request.META.get("HTTP_X_FORWARDED_FOR") if request else None,
        )
        refusal: list[ValidationError] = []

        def check() -> bool | None:
            try:
                super(RateLimitedAdminLoginForm, self).clean()
            except ValidationError as exc:  # wrong password, inactive, not staff
                refusal.append(exc)
                return None
            return True

        try:
            services.password_attempt_limited(username=username, client=client, check=check)
        except ValidationError as exc:
            if exc.code == AuthErrorCode.RATE_LIMITED:
                raise ValidationError(TOO_MANY_SIGN_INS, code="rate_limited") from exc
            raise
        if refusal:
            raise refusal[0]
        return self.cleaned_data


admin.site.login_form = RateLimitedAdminLoginForm


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
