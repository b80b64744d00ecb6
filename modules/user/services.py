"""The user module's writes: registration, profile changes, unregistering, banning, access.

Each runs in one transaction, locks the user row where two writers could race, emits its event
inside the transaction, and sends `user_deactivated` (modules.user.api) when a user stops being
able to act, so whoever keeps credentials for users (auth) revokes them in the same transaction,
or `user_access_changed` when what an active user may do changed (staff flags, groups, ...).

Who may do what is decided here, not by the callers: the GraphQL mutations and the Django admin
pass the acting user's uuid and get the same refusals (PermissionDenied, typed ValidationError).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import TypedDict, Unpack, cast

from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events import emit
from modules.user.errors import UserErrorCode
from modules.user.events import (
    UserBanned,
    UserProfileUpdated,
    UserSignedUp,
    UserTypeName,
    UserUnregistered,
)
from modules.user.models import DriverProfile, StaffProfile, User, UserType
from modules.user.phone_numbers import banned_phone_digest
from modules.user.selectors import acting_user, phone_number_banned
from modules.user.signals import user_access_changed, user_deactivated

FULL_NAME_MIN_LENGTH = 2
FULL_NAME_MAX_LENGTH = 100
OLDEST_DATE_OF_BIRTH = dt.date(1900, 1, 1)


def clean_full_name(full_name: str) -> str:
    """The name with surrounding and repeated spaces removed; INVALID_FULL_NAME when unusable."""
    cleaned = " ".join(str(full_name).split())
    if (
        not FULL_NAME_MIN_LENGTH <= len(cleaned) <= FULL_NAME_MAX_LENGTH
        or not cleaned.isprintable()
    ):
        raise ValidationError(
            {
                "full_name": ValidationError(
                    f"Enter a full name of {FULL_NAME_MIN_LENGTH} to {FULL_NAME_MAX_LENGTH} "
                    "characters.",
                    code=UserErrorCode.INVALID_FULL_NAME,
                )
            }
        )
    return cleaned


def clean_date_of_birth(date_of_birth: dt.date | None) -> dt.date | None:
    if date_of_birth is None:
        return None
    if not OLDEST_DATE_OF_BIRTH <= date_of_birth < timezone.localdate():
        raise ValidationError(
            {
                "date_of_birth": ValidationError(
                    "Enter a date of birth in the past (after 1900).",
                    code=UserErrorCode.INVALID_DATE_OF_BIRTH,
                )
            }
        )
    return date_of_birth


def _anonymous_username(prefix: str, user: User) -> str:
    return f"{prefix}-{user.uuid.hex}"


def user_register(
    *, phone_number: str, user_type: str, full_name: str, date_of_birth: dt.date | None
) -> User:
    """A new user with a verified E.164 `phone_number` and the profile of its type."""
    if user_type not in UserType.values:
        raise ValidationError(
            {"user_type": ValidationError("Choose STAFF or DRIVER.", code=UserErrorCode.INVALID)}
        )
    full_name = clean_full_name(full_name)
    date_of_birth = clean_date_of_birth(date_of_birth)
    with transaction.atomic():
        if phone_number_banned(banned_phone_digest(phone_number)):
            raise ValidationError(
                "This phone number is banned.", code=UserErrorCode.PHONE_NUMBER_BANNED
            )
        if User.objects.filter(phone_number=phone_number).exists():
            raise ValidationError(
                {
                    "phone_number": ValidationError(
                        "This phone number is already registered.",
                        code=UserErrorCode.PHONE_NUMBER_TAKEN,
                    )
                }
            )
        user_uuid = uuid.uuid4()
        try:
            with transaction.atomic():
                # Usernames never carry the phone number: other people may see a username.
                user = User.objects.create_user(
                    username=f"{user_type.lower()}-{user_uuid.hex[:12]}",
                    phone_number=phone_number,
                    type=user_type,
                    uuid=user_uuid,
                )
        except IntegrityError as exc:
            # Lost a race against another sign-up with this number.
            raise ValidationError(
                {
                    "phone_number": ValidationError(
                        "This phone number is already registered.",
                        code=UserErrorCode.PHONE_NUMBER_TAKEN,
                    )
                }
            ) from exc
        profile = user.profile
        assert profile is not None
        profile.full_name = full_name
        profile.date_of_birth = date_of_birth
        profile.save(update_fields=["full_name", "date_of_birth"])
        # user.type is one of UserType\'s values.
        # user.type is one of UserType's values.
        emit(UserSignedUp(user_uuid=str(user.uuid), user_type=cast("UserTypeName", user.type)))
    return user


def _locked_user(user_uuid: uuid.UUID) -> User:
    try:
        return User.objects.select_for_update().get(uuid=user_uuid)
    except User.DoesNotExist:
        raise ObjectDoesNotExist("No such user.") from None


def _require_superuser(actor_uuid: uuid.UUID | None, doing: str) -> None:
    """PermissionDenied unless `actor_uuid` is a superuser who may still act.

    Read from the database, not from the caller's copy: a superuser demoted or banned a moment
    ago must not keep their powers for the rest of a request or an open admin page.
    """
    actor = acting_user(actor_uuid) if actor_uuid is not None else None
    if actor is None or not actor.is_superuser:
        raise PermissionDenied(f"Only a superuser may {doing}.")


def user_profile_update(
    *, user_uuid: uuid.UUID, full_name: str | None = None, date_of_birth: dt.date | None = None
) -> User:
    """Change the given profile fields (None leaves a field as it is)."""
    cleaned_name = clean_full_name(full_name) if full_name is not None else None
    cleaned_dob = clean_date_of_birth(date_of_birth)
    with transaction.atomic():
        user = _locked_user(user_uuid)
        if user.unregistered_at is not None or user.banned:
            raise ValidationError("This account is closed.", code=UserErrorCode.USER_UNREGISTERED)
        profile_model = DriverProfile if user.type == UserType.DRIVER else StaffProfile
        profile, _ = profile_model.objects.get_or_create(user=user)
        changed = []
        if cleaned_name is not None and cleaned_name != profile.full_name:
            profile.full_name = cleaned_name
            changed.append("fullName")
        if cleaned_dob is not None and cleaned_dob != profile.date_of_birth:
            profile.date_of_birth = cleaned_dob
            changed.append("dateOfBirth")
        if changed:
            profile.save()
            emit(UserProfileUpdated(user_uuid=str(user.uuid), changed_fields=changed))
    return User.objects.select_related("staff_profile", "driver_profile").get(pk=user.pk)


def _anonymise(user: User, *, username_prefix: str) -> None:
    """Forget who the person was: number, username, profile, password; keep the uuid."""
    user.phone_number = None
    user.username = _anonymous_username(username_prefix, user)
    user.is_active = False
    user.set_unusable_password()
    user.groups.clear()
    user.user_permissions.clear()
    StaffProfile.objects.filter(user=user).update(full_name="", date_of_birth=None)
    DriverProfile.objects.filter(user=user).update(full_name="", date_of_birth=None)


def user_unregister(
    *,
    user_uuid: uuid.UUID,
    unregistered_by_uuid: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> User:
    """The user leaves: anonymised and deactivated; every credential of theirs stops working.

    `unregistered_by_uuid` is who asks: the user themselves, or a superuser (who may already ban
    anyone, which anonymises too); anyone else is refused. None is the system itself (commands,
    tests), never a request.
    """
    now = now or timezone.now()
    if unregistered_by_uuid is not None and unregistered_by_uuid != user_uuid:
        _require_superuser(unregistered_by_uuid, "close another user's account")
    with transaction.atomic():
        user = _locked_user(user_uuid)
        if user.unregistered_at is not None:
            raise ValidationError(
                "This account is already closed.", code=UserErrorCode.USER_UNREGISTERED
            )
        _anonymise(user, username_prefix="unregistered")
        user.unregistered_at = now
        user.save()
        # user.type is one of UserType\'s values.
        # user.type is one of UserType's values.
        emit(UserUnregistered(user_uuid=str(user.uuid), user_type=cast("UserTypeName", user.type)))
        user_deactivated.send(sender=User, user_uuid=user.uuid, reason="unregistered")
    return user


def user_ban(
    *, user_uuid: uuid.UUID, banned_by_uuid: uuid.UUID | None, now: dt.datetime | None = None
) -> User:
    """Ban a user for good: anonymised, deactivated, and their number refused at sign-up.

    `banned_by_uuid` is who bans: only a superuser may, and not themselves. None is the system
    itself (commands, tests), never a request.
    """
    now = now or timezone.now()
    if banned_by_uuid is not None:
        _require_superuser(banned_by_uuid, "ban users")
    if banned_by_uuid is not None and banned_by_uuid == user_uuid:
        raise ValidationError("You cannot ban yourself.", code=UserErrorCode.CANNOT_BAN_YOURSELF)
    with transaction.atomic():
        user = _locked_user(user_uuid)
        if user.banned:
            raise ValidationError("This user is already banned.", code=UserErrorCode.ALREADY_BANNED)
        if user.phone_number:
            user.banned_phone_digest = banned_phone_digest(user.phone_number)
        user.banned = True
        user.banned_at = now
        _anonymise(user, username_prefix="banned")
        user.save()
        # user.type is one of UserType\'s values.
        # user.type is one of UserType's values.
        emit(UserBanned(user_uuid=str(user.uuid), user_type=cast("UserTypeName", user.type)))
        user_deactivated.send(sender=User, user_uuid=user.uuid, reason="banned")
    return user


class AccessChange(TypedDict, total=False):
    """What a user may do, as `user_access_update` changes it (a key left out or None keeps it)."""

    is_active: bool | None
    is_staff: bool | None
    is_superuser: bool | None
    group_ids: Collection[int] | None
    permission_ids: Collection[int] | None


def _apply_access(user: User, change: AccessChange) -> list[str]:
    """Set the given flags on `user` (relations are only compared); the names of what changes."""
    changed = []
    for name in ("is_active", "is_staff", "is_superuser"):
        value = change.get(name)
        if value is not None and bool(value) != getattr(user, name):
            setattr(user, name, bool(value))
            changed.append(name)
    for name, key in (("groups", "group_ids"), ("user_permissions", "permission_ids")):
        ids = cast("Collection[int] | None", change.get(key))  # group_ids or permission_ids
        if ids is not None and set(ids) != set(getattr(user, name).values_list("pk", flat=True)):
            changed.append(name)
    return changed


def _check_access(user: User, *, changed_by_uuid: uuid.UUID | None, changed: list[str]) -> None:
    """The rules of `user_access_update`, on `user` with the wanted flags already set."""
    _require_superuser(changed_by_uuid, "change what users may do")
    if changed and (user.banned or user.unregistered_at is not None):
        # Closed accounts stay closed: re-activating one would undo a ban or an unregistration.
        raise ValidationError("This account is closed.", code=UserErrorCode.USER_UNREGISTERED)
    try:
        user.clean()  # the model's own rule: staff flags only on STAFF users
    except ValidationError as exc:
        raise ValidationError(" ".join(exc.messages), code=UserErrorCode.INVALID) from None


def user_access_check(
    *, user_uuid: uuid.UUID, changed_by_uuid: uuid.UUID | None, **change: Unpack[AccessChange]
) -> None:
    """Raise what `user_access_update` would for this change, changing nothing.

    For forms that must show a refusal before anything is saved (the admin); the update checks
    again under the row lock.
    """
    try:
        user = User.objects.get(uuid=user_uuid)
    except User.DoesNotExist:
        raise ObjectDoesNotExist("No such user.") from None
    changed = _apply_access(user, change)
    _check_access(user, changed_by_uuid=changed_by_uuid, changed=changed)


def user_access_update(
    *, user_uuid: uuid.UUID, changed_by_uuid: uuid.UUID | None, **change: Unpack[AccessChange]
) -> User:
    """Change what a user may do: activity, staff flags, groups and permissions (None keeps one).

    Only a superuser may (`changed_by_uuid`, read fresh); staff flags only on STAFF users; closed
    (banned or unregistered) accounts are refused. Sends `user_access_changed` when anything
    changed, so open connections of the user are re-authorised.
    """
    with transaction.atomic():
        user = _locked_user(user_uuid)
        changed = _apply_access(user, change)
        _check_access(user, changed_by_uuid=changed_by_uuid, changed=changed)
        if not changed:
            return user
        flags = [name for name in changed if name.startswith("is_")]
        if flags:
            user.save(update_fields=flags)
        if "groups" in changed:
            user.groups.set(change.get("group_ids") or [])
        if "user_permissions" in changed:
            user.user_permissions.set(change.get("permission_ids") or [])
        user_access_changed.send(sender=User, user_uuid=user.uuid)
    return user


def _locked_group(group_id: int) -> Group:
    try:
        return Group.objects.select_for_update().get(pk=group_id)
    except Group.DoesNotExist:
        raise ObjectDoesNotExist("No such group.") from None


def _access_changed_for_members(group: Group) -> None:
    for member_uuid in User.objects.filter(groups=group).values_list("uuid", flat=True):
        user_access_changed.send(sender=User, user_uuid=member_uuid)


def group_permissions_update(
    *, group_id: int, permission_ids: Collection[int], changed_by_uuid: uuid.UUID | None
) -> None:
    """Set what a group grants; its members' access changed (superuser only)."""
    _require_superuser(changed_by_uuid, "change what users may do")
    with transaction.atomic():
        group = _locked_group(group_id)
        if set(permission_ids) != set(group.permissions.values_list("pk", flat=True)):
            group.permissions.set(permission_ids)
            _access_changed_for_members(group)


def group_delete(*, group_id: int, deleted_by_uuid: uuid.UUID | None) -> None:
    """Delete a group; its members lose what it granted (superuser only)."""
    _require_superuser(deleted_by_uuid, "change what users may do")
    with transaction.atomic():
        group = _locked_group(group_id)
        _access_changed_for_members(group)  # before the memberships go with the group
        group.delete()


# --- roles in the admin ---------------------------------------------------------------------------

STAFF_GROUP = "Staff"
# What the staff role may do in the Django admin (docs/security.md, "People, by role"): run
# shipping and distribution, and look at users, the outbox and the heartbeat. Drivers never sign in
# to the admin (not is_staff); a superuser may do everything without a group; API keys, sessions
# and access changes stay with superusers (their admins check is_superuser).
STAFF_ADMIN_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "shipping": ("add", "change", "delete", "view"),
    "distribution": ("add", "change", "delete", "view"),
    "user": ("view",),
    "events": ("view",),
    "ops": ("view",),
}


def role_groups_ensure(*, using: str = "default") -> Group:
    """The "Staff" group with the admin permissions of the staff role (after every migrate).

    Only adds: what a superuser granted the group beyond these stays. Grants change no open
    connection's rights, so nothing is announced.
    """
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    wanted = Q(pk__in=[])
    for app_label, actions in STAFF_ADMIN_PERMISSIONS.items():
        codenames = Q()
        for action in actions:
            codenames |= Q(codename__startswith=f"{action}_")
        wanted |= Q(content_type__app_label=app_label) & codenames
    with transaction.atomic(using=using):
        group, _ = Group.objects.using(using).get_or_create(name=STAFF_GROUP)
        group.permissions.add(*Permission.objects.using(using).filter(wanted))
    return group
