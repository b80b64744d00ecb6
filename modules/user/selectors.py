"""Reads of users: querysets and single lookups, no side effects."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from modules.user.models import User


def users_with_profiles() -> QuerySet[User]:
    return User.objects.select_related("staff_profile", "driver_profile")


def acting_user(user_uuid: uuid.UUID) -> User | None:
    """The user when it may still act: active, not banned, not unregistered."""
    return (
        User.objects.filter(
            uuid=user_uuid, is_active=True, banned=False, unregistered_at__isnull=True
        )
        .select_related("staff_profile", "driver_profile")
        .first()
    )


def user_by_phone_number(phone_number: str) -> User | None:
    """The registered user with this E.164 number (anonymised users have none)."""
    return users_with_profiles().filter(phone_number=phone_number).first()


def phone_number_banned(digest: str) -> bool:
    return User.objects.filter(banned=True, banned_phone_digest=digest).exists()


def visible_users(*, viewer_is_staff: bool, viewer_uuid: uuid.UUID | None) -> QuerySet[User]:
    """Users a viewer may see: staff see everyone; anyone else only themselves."""
    queryset = users_with_profiles()
    if viewer_is_staff:
        return queryset
    if viewer_uuid is None:
        return queryset.none()
    return queryset.filter(Q(uuid=viewer_uuid))
