"""Admin for users. Ban and unregister go through the services (one event each); nobody deletes.

The services decide who may do what, as they do for GraphQL: the admin passes the acting user and
shows the refusal. Privileges (active, staff, superuser, groups, permissions) are shown to every
admin user but editable by superusers only, and written by `services.user_access_update`, which
checks again and sends `user_access_changed`. The phone number is read-only once a user exists:
there is no verified way to change it yet, and changing it would hand the account to whoever
holds the new number.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from modules.user import services
from modules.user.models import DriverProfile, StaffProfile, User, UserType

ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")
ACCESS_RELATIONS = ("groups", "user_permissions")
PRIVILEGE_FIELDS = (*ACCESS_FLAGS, *ACCESS_RELATIONS)


def _acting_uuid(request: HttpRequest) -> uuid.UUID:
    """The admin user's uuid: the admin site serves signed-in staff only."""
    return cast(User, request.user).uuid


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
    # No privilege fields: whatever a request posts for them is ignored; a superuser grants them
    # afterwards on the change form, through the service.
    class Meta:
        model = User
        fields = ("username", "type", "phone_number")


class UserChangeForm(DjangoUserChangeForm):
    """The change form; its privilege fields (a superuser's form only) are the service's to check
    and to save (`UserAdmin.save_related`)."""

    actor_uuid: Any = None  # the admin user's uuid, bound per request by UserAdmin.get_form

    def access_changes(self) -> dict[str, Any]:
        """The privileges this form sets, as keyword arguments of `user_access_update`."""
        changes: dict[str, Any] = {
            name: self.cleaned_data[name]
            for name in ACCESS_FLAGS
            if name in self.fields and name in self.cleaned_data
        }
        for name, argument in (("groups", "group_ids"), ("user_permissions", "permission_ids")):
            if name in self.fields and name in self.cleaned_data:
                changes[argument] = [row.pk for row in self.cleaned_data[name]]
        return changes

    def _post_clean(self) -> None:
        # The model's clean(): staff flags only on STAFF users.
        super()._post_clean()  # type: ignore[misc]  # Django's private hook, not in django-stubs
        access = self.access_changes()
        if not access or self.errors:
            return
        # Refusals show on the form before anything is saved; the update checks again.
        try:
            services.user_access_check(
                user_uuid=self.instance.uuid, changed_by_uuid=self.actor_uuid, **access
            )
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            self.add_error(None, getattr(exc, "messages", None) or str(exc))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserAddForm
    form = UserChangeForm
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
        superuser = request.user.is_superuser
        if obj is None:
            # Only a superuser may give a new account a phone number (it signs in with it).
            return () if superuser else ("phone_number",)
        # The type decides which profile a user has, so it is chosen once, when adding; the
        # phone number changes only through a verified flow (there is none yet).
        readonly = (*self.readonly_fields, "phone_number")
        return readonly if superuser else (*readonly, *PRIVILEGE_FIELDS)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            # The service decides with the acting user; the form knows it only through this.
            form = type(form.__name__, (form,), {"actor_uuid": _acting_uuid(request)})
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A superuser's account (username, password, profile) is changed by superusers only.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Setting someone else's password is taking their account: a superuser's power only.
        user = self.get_object(request, unquote(id))
        if user is not None and user.pk != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [DriverProfileInline] if obj.type == UserType.DRIVER else [StaffProfileInline]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            # The form saves everything but the privileges: those are the service's to write.
            stored = User.objects.only(*ACCESS_FLAGS).get(pk=obj.pk)
            for name in ACCESS_FLAGS:
                setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)
        if not change:
            profile_model = DriverProfile if obj.type == UserType.DRIVER else StaffProfile
            profile_model.objects.get_or_create(user=obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        access = form.access_changes() if change else {}
        for name in ACCESS_RELATIONS:
            form.cleaned_data.pop(name, None)  # not set by the form: see below
        super().save_related(request, form, formsets, change)
        if access:
            # Inside the admin's transaction: a refusal here (a race the form's check missed)
            # rolls the whole save back.
            services.user_access_update(
                user_uuid=form.instance.uuid, changed_by_uuid=_acting_uuid(request), **access
            )

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
            except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
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
            lambda user: services.user_ban(
                user_uuid=user.uuid, banned_by_uuid=_acting_uuid(request)
            ),
        )

    @admin.action(description="Unregister selected users (anonymise and deactivate)")
    def unregister_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(
            request,
            queryset,
            "Unregistered",
            lambda user: services.user_unregister(
                user_uuid=user.uuid, unregistered_by_uuid=_acting_uuid(request)
            ),
        )


# Django registers its own GroupAdmin; ours lets only superusers change what a group grants.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """A group's permissions are its members' privileges: superusers only, through the service."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        permissions = form.cleaned_data.pop("permissions", None)
        super().save_related(request, form, formsets, change)
        if permissions is not None:
            services.group_permissions_update(
                group_id=form.instance.pk,
                permission_ids=[permission.pk for permission in permissions],
                changed_by_uuid=_acting_uuid(request),
            )

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        services.group_delete(group_id=obj.pk, deleted_by_uuid=_acting_uuid(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset:
            services.group_delete(group_id=group.pk, deleted_by_uuid=_acting_uuid(request))
