"""What other modules may use of the user module: plain data about users, looked up by uuid.

auth builds on this (auth -> user, never the other way): it asks whether a number is registered
or banned, registers users it has verified, checks staff passwords, and listens to
`user_deactivated` to revoke the credentials of users who left or were banned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from modules.user.signals import user_access_changed, user_deactivated

__all__ = [
    "PhoneNumberStatus",
    "UserSummary",
    "active_driver",
    "check_profile",
    "normalise_phone_number",
    "phone_number_status",
    "record_sign_in",
    "register_user",
    "staff_uuid_for_password",
    "user_access_changed",
    "user_deactivated",
    "user_for_principal",
    "user_uuid_for_phone_number",
    "users_by_uuid",
]


@dataclass(frozen=True)
class UserSummary:
    uuid: uuid.UUID
    username: str
    type: str  # "STAFF" | "DRIVER"
    full_name: str
    date_of_birth: dt.date | None
    is_active: bool
    is_staff: bool


@dataclass(frozen=True)
class PhoneNumberStatus:
    registered: bool
    banned: bool


def _summary(user: Any) -> UserSummary:
    profile = user.profile
    return UserSummary(
        uuid=user.uuid,
        username=user.username,
        type=user.type,
        full_name=profile.full_name if profile else "",
        date_of_birth=profile.date_of_birth if profile else None,
        is_active=user.is_active and not user.banned and user.unregistered_at is None,
        is_staff=user.is_staff,
    )


def users_by_uuid(uuids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UserSummary]:
    """Summaries of the users with these uuids (missing ones are absent), in one query."""
    from modules.user.models import User

    wanted = {u if isinstance(u, uuid.UUID) else uuid.UUID(str(u)) for u in uuids}
    if not wanted:
        return {}
    users = User.objects.filter(uuid__in=wanted).select_related("staff_profile", "driver_profile")
    return {user.uuid: _summary(user) for user in users}


def user_for_principal(user_uuid: uuid.UUID) -> Any:
    """The user model instance a request acts as, or None when that user may not act any more.

    The one place another module gets a model of ours: the gateway's principal carries it (Django's
    `request.user`, the permission rules). Callers treat it as opaque and read only what
    `Principal` reads. A user who is inactive, banned or unregistered gets None.
    """
    from modules.user.selectors import acting_user

    return acting_user(user_uuid)


def active_driver(user_uuid: uuid.UUID) -> UserSummary | None:
    """The user when it exists, is active, not banned and of type DRIVER; otherwise None."""
    summary = users_by_uuid([user_uuid]).get(user_uuid)
    if summary is None or not summary.is_active or summary.type != "DRIVER":
        return None
    return summary


def normalise_phone_number(raw: str, *, require_valid: bool = True) -> str:
    """E.164 form of `raw`; ValidationError(code="INVALID_PHONE_NUMBER") when it is not a number."""
    from modules.user.phone_numbers import normalise_phone_number as normalise

    return normalise(raw, require_valid=require_valid)


def phone_number_status(phone_number: str) -> PhoneNumberStatus:
    """Whether an E.164 number belongs to a user, and whether it was banned."""
    from modules.user.phone_numbers import banned_phone_digest
    from modules.user.selectors import phone_number_banned, user_by_phone_number

    registered = user_by_phone_number(phone_number) is not None
    return PhoneNumberStatus(
        registered=registered,
        banned=not registered and phone_number_banned(banned_phone_digest(phone_number)),
    )


def user_uuid_for_phone_number(phone_number: str) -> uuid.UUID | None:
    """The uuid of the user who may act and has this E.164 number, else None."""
    from modules.user.selectors import user_by_phone_number

    user = user_by_phone_number(phone_number)
    if user is None or not user.is_active or user.banned or user.unregistered_at is not None:
        return None
    return user.uuid


def staff_uuid_for_password(username: str, password: str) -> uuid.UUID | None:
    """The uuid of the active STAFF user with these credentials, else None (same for every miss)."""
    from django.contrib.auth import authenticate

    # Django's backend hashes even for unknown usernames, so a miss takes as long as a hit.
    user = authenticate(username=username, password=password)
    if user is None or user.type != "STAFF" or user.banned or user.unregistered_at is not None:
        return None
    return user.uuid


def record_sign_in(user_uuid: uuid.UUID) -> None:
    """Note when the user last signed in (Django's last_login)."""
    from django.utils import timezone

    from modules.user.models import User

    User.objects.filter(uuid=user_uuid).update(last_login=timezone.now())


def register_user(
    *, phone_number: str, user_type: str, full_name: str, date_of_birth: dt.date | None
) -> UserSummary:
    """Register a user whose E.164 number the caller has verified (joins the caller's transaction).

    ValidationError with code INVALID_FULL_NAME, INVALID_DATE_OF_BIRTH, PHONE_NUMBER_TAKEN or
    PHONE_NUMBER_BANNED when it cannot.
    """
    from modules.user.services import user_register

    return _summary(
        user_register(
            phone_number=phone_number,
            user_type=user_type,
            full_name=full_name,
            date_of_birth=date_of_birth,
        )
    )


def check_profile(*, full_name: str, date_of_birth: dt.date | None) -> None:
    """Raise the ValidationError `register_user` would for this name and date of birth."""
    from modules.user.services import clean_date_of_birth, clean_full_name

    errors: dict[str, Any] = {}
    checks: tuple[tuple[Callable[[Any], object], Any], ...] = (
        (clean_full_name, full_name),
        (clean_date_of_birth, date_of_birth),
    )
    for check, value in checks:
        try:
            check(value)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)


def demo_staff_ensure(*, username: str, password: str, full_name: str) -> uuid.UUID:
    """Create (or reset the password of) a staff account for demo data; development only."""
    from modules.user.models import User, UserType

    staff = User.objects.filter(username=username).first()
    if staff is None:
        staff = User.objects.create_user(
            username=username, password=password, type=UserType.STAFF, is_staff=True
        )
        profile = staff.profile
        assert profile is not None  # a new staff user has its profile
        profile.full_name = full_name
        profile.save(update_fields=["full_name"])
    elif not staff.check_password(password):
        staff.set_password(password)  # keep the printed credentials true
        staff.save(update_fields=["password"])
    from modules.user.services import role_groups_ensure

    staff.groups.add(role_groups_ensure())  # the admin shows what the staff role may do
    return staff.uuid
