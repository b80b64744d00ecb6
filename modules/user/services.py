"""The user module's writes: registration, profile changes, unregistering and banning.

Each runs in one transaction, locks the user row where two writers could race, emits its event
inside the transaction, and sends `user_deactivated` (modules.user.api) when a user stops being
able to act, so whoever keeps credentials for users (auth) revokes them in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events import emit
from modules.user.errors import UserErrorCode
from modules.user.events import UserBanned, UserProfileUpdated, UserSignedUp, UserUnregistered
from modules.user.models import DriverProfile, StaffProfile, User, UserType
from modules.user.phone_numbers import banned_phone_digest
from modules.user.selectors import phone_number_banned
from modules.user.signals import user_deactivated

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
        emit(UserSignedUp(user_uuid=str(user.uuid), user_type=user.type))
    return user


def _locked_user(user_uuid: uuid.UUID) -> User:
    try:
        return User.objects.select_for_update().get(uuid=user_uuid)
    except User.DoesNotExist:
        raise ObjectDoesNotExist("No such user.") from None


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


def user_unregister(*, user_uuid: uuid.UUID, now: dt.datetime | None = None) -> User:
    """The user leaves: anonymised and deactivated; every credential of theirs stops working."""
    now = now or timezone.now()
    with transaction.atomic():
        user = _locked_user(user_uuid)
        if user.unregistered_at is not None:
            raise ValidationError(
                "This account is already closed.", code=UserErrorCode.USER_UNREGISTERED
            )
        _anonymise(user, username_prefix="unregistered")
        user.unregistered_at = now
        user.save()
        emit(UserUnregistered(user_uuid=str(user.uuid), user_type=user.type))
        user_deactivated.send(sender=User, user_uuid=user.uuid, reason="unregistered")
    return user


def user_ban(
    *, user_uuid: uuid.UUID, banned_by_uuid: uuid.UUID | None, now: dt.datetime | None = None
) -> User:
    """Ban a user for good: anonymised, deactivated, and their number refused at sign-up."""
    now = now or timezone.now()
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
        emit(UserBanned(user_uuid=str(user.uuid), user_type=user.type))
        user_deactivated.send(sender=User, user_uuid=user.uuid, reason="banned")
    return user
