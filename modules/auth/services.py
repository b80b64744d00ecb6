"""Auth's writes: sessions (access + rotating refresh tokens), API keys, verification codes.

Every function takes keyword arguments, runs one transaction and emits its events inside it.
Failures are Django `ValidationError`s with an `AuthErrorCode`; where a failure must still leave a
trace (a wrong code counts as an attempt, a reused refresh token revokes its session) the trace is
committed first and the error raised after the transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events import emit
from events.sealing import seal
from modules.auth import rate_limits
from modules.auth.credentials import (
    InvalidAccessToken,
    decode_access_token,
    digests_match,
    encode_access_token,
    new_api_key,
    new_refresh_token,
    new_verification_code,
    phone_digest,
    rate_limit_key,
    secret_digest,
    verification_code_digest,
)
from modules.auth.errors import AuthErrorCode
from modules.auth.events import VerificationCodeRequested
from modules.auth.models import (
    ApiKey,
    ApiScope,
    PhoneNumberLock,
    RateLimitWindow,
    RefreshToken,
    RefreshTokenFamily,
    VerificationCode,
    VerificationPurpose,
)
from modules.auth.principals import AuthenticationFailed, Principal
from modules.auth.signals import credentials_revoked
from modules.user import api as user_api

logger = logging.getLogger(__name__)

# Refreshing `last_used_at` on every call would turn each machine request into a write.
API_KEY_LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


# --- access tokens and the principal -------------------------------------------------------------


def issue_access_token(
    user: Any, *, session_uuid: uuid.UUID | None = None, now: dt.datetime | None = None
) -> str:
    """A signed access JWT for `user` (sub = the user's uuid), valid ACCESS_TOKEN_LIFETIME.

    The token belongs to the open session `session_uuid` of this user, or, without one, to a new
    session of its own (no refresh token): revoking that session, or all of the user's sessions
    (ban, unregistration, admin), ends the token at once like any other.
    """
    now = now or timezone.now()
    if session_uuid is None:
        # No refresh token: the purge deletes the row once the token has expired.
        session_uuid = RefreshTokenFamily.objects.create(user_uuid=user.uuid, created_at=now).uuid
    elif not RefreshTokenFamily.objects.filter(
        uuid=session_uuid, user_uuid=user.uuid, revoked_at__isnull=True
    ).exists():
        raise ValueError("No open session of this user has that uuid.")
    return encode_access_token(user_uuid=user.uuid, session_uuid=session_uuid, now=now)


def principal_for_authorization(authorization: str) -> Principal:
    """Who presents this `Authorization` value; AuthenticationFailed (safe message) otherwise."""
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if not credentials:
        raise AuthenticationFailed(
            "Malformed Authorization header: send 'Bearer <token>' or 'Api-Key <key>'."
        )
    if scheme.lower() == "bearer":
        return _principal_for_access_token(credentials)
    if scheme.lower() == "api-key":
        return _principal_for_api_key(credentials)
    raise AuthenticationFailed("Unsupported Authorization scheme: use 'Bearer' or 'Api-Key'.")


def _plausible_secret(value: str) -> bool:
    """Tokens and keys we issue are printable ASCII. Anything else (a NUL, a control character, a
    lone surrogate from a websocket's JSON) is no credential of ours, and could only fail later:
    in PostgreSQL, which refuses NUL, or in an encoder."""
    return value.isascii() and value.isprintable()


def _principal_for_access_token(token: str) -> Principal:
    if not _plausible_secret(token):
        raise AuthenticationFailed("The access token is not valid.")
    try:
        claims = decode_access_token(token)
    except InvalidAccessToken as exc:
        raise AuthenticationFailed(str(exc)) from None
    # The user's state is checked on every use, so a ban or unregistration takes effect at once.
    user = user_api.user_for_principal(claims.user_uuid)
    if user is None:
        raise AuthenticationFailed("This account can no longer sign in.")
    # Every token names its session (decode_access_token requires `sid`): signed out, it is dead.
    if not RefreshTokenFamily.objects.filter(
        uuid=claims.session_uuid, user_uuid=claims.user_uuid, revoked_at__isnull=True
    ).exists():
        raise AuthenticationFailed("This session has been signed out.")
    return Principal(user=user)


# Compared against when the prefix is unknown, so both paths take about as long.
_UNKNOWN_KEY_DIGEST = secret_digest("unknown-api-key")


def _principal_for_api_key(key: str) -> Principal:
    if not _plausible_secret(key):
        raise AuthenticationFailed("Unknown or revoked API key.")
    prefix, dot, _ = key.partition(".")
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first() if dot else None
    expected = api_key.key_digest if api_key is not None else _UNKNOWN_KEY_DIGEST
    if not digests_match(secret_digest(key), expected) or api_key is None:
        raise AuthenticationFailed("Unknown or revoked API key.")
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_LAST_USED_GRANULARITY)
    ).update(last_used_at=now)
    return Principal(api_key_name=api_key.name, scopes=frozenset(api_key.scopes))


# --- sessions: refresh tokens --------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What a successful sign-in, sign-up or refresh hands back (tokens shown once)."""

    access_token: str
    refresh_token: str
    user_uuid: uuid.UUID


def _issue_refresh_token(family: RefreshTokenFamily, now: dt.datetime) -> str:
    token = new_refresh_token()
    RefreshToken.objects.create(
        family=family,
        token_digest=secret_digest(token),
        created_at=now,
        expires_at=now + settings.REFRESH_TOKEN_LIFETIME,
    )
    return token


def session_start(*, user_uuid: uuid.UUID, now: dt.datetime | None = None) -> Session:
    """A new session (refresh-token family) for a user who just proved who they are."""
    now = now or timezone.now()
    with transaction.atomic():
        family = RefreshTokenFamily.objects.create(user_uuid=user_uuid, created_at=now)
        refresh_token = _issue_refresh_token(family, now)
    access_token = encode_access_token(user_uuid=user_uuid, session_uuid=family.uuid, now=now)
    return Session(access_token=access_token, refresh_token=refresh_token, user_uuid=user_uuid)


def _invalid_refresh_token() -> ValidationError:
    return ValidationError(
        {
            "refresh_token": ValidationError(
                "The refresh token is not valid; sign in again.",
                code=AuthErrorCode.INVALID_REFRESH_TOKEN,
            )
        }
    )


def _revoke(family: RefreshTokenFamily, reason: str, now: dt.datetime) -> None:
    if family.revoked_at is None:
        family.revoked_at = now
        family.revoked_reason = reason
        family.save(update_fields=["revoked_at", "revoked_reason"])
        # Its access tokens stop working at once; live connections using them should know.
        credentials_revoked.send(sender=RefreshTokenFamily, user_uuid=family.user_uuid)


def refresh_token_rotate(*, refresh_token: str, now: dt.datetime | None = None) -> Session:
    """Exchange a refresh token for a new pair. Presenting a token twice revokes its session."""
    now = now or timezone.now()
    failure: ValidationError | None = None
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update()
            .select_related("family")
            .filter(token_digest=secret_digest(refresh_token))
            .first()
        )
        if token is None or token.family.revoked_at is not None or token.expires_at <= now:
            failure = _invalid_refresh_token()
        elif token.rotated_at is not None:
            # Someone holds a copy of a token already exchanged: end the whole session.
            logger.warning("Refresh token reuse detected; session %s revoked", token.family.uuid)
            _revoke(token.family, "reuse", now)
            failure = ValidationError(
                {
                    "refresh_token": ValidationError(
                        "This refresh token was already used; the session is signed out.",
                        code=AuthErrorCode.TOKEN_REUSED,
                    )
                }
            )
        elif user_api.user_for_principal(token.family.user_uuid) is None:
            _revoke(token.family, "user_inactive", now)
            failure = _invalid_refresh_token()
        else:
            token.rotated_at = now
            token.save(update_fields=["rotated_at"])
            new_token = _issue_refresh_token(token.family, now)
    if failure is not None:
        raise failure
    assert token is not None  # no token: a failure, raised above
    family = token.family
    access_token = encode_access_token(
        user_uuid=family.user_uuid, session_uuid=family.uuid, now=now
    )
    return Session(access_token=access_token, refresh_token=new_token, user_uuid=family.user_uuid)


def session_sign_out(
    *, refresh_token: str, user_uuid: uuid.UUID, now: dt.datetime | None = None
) -> None:
    """End the session that `refresh_token` belongs to; only its own user may do so."""
    now = now or timezone.now()
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update()
            .select_related("family")
            .filter(token_digest=secret_digest(refresh_token))
            .first()
        )
        if token is None or token.family.revoked_at is not None or token.expires_at <= now:
            raise _invalid_refresh_token()
        if token.family.user_uuid != user_uuid:
            raise PermissionDenied("This refresh token belongs to someone else.")
        _revoke(token.family, "sign_out", now)


def sessions_revoke_all(
    *, user_uuid: uuid.UUID, reason: str, now: dt.datetime | None = None
) -> int:
    """End every session of a user (unregistered or banned); returns how many were open."""
    count = RefreshTokenFamily.objects.filter(user_uuid=user_uuid, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_reason=reason
    )
    if count:
        credentials_revoked.send(sender=RefreshTokenFamily, user_uuid=user_uuid)
    return count


def sessions_revoke(
    *, session_uuids: list[uuid.UUID], reason: str, now: dt.datetime | None = None
) -> int:
    """End these sessions (admin); returns how many were still open."""
    with transaction.atomic():
        still_open = RefreshTokenFamily.objects.select_for_update().filter(
            uuid__in=session_uuids, revoked_at__isnull=True
        )
        # Whose they were, read under the lock: exactly the users whose sessions end here.
        user_uuids = sorted(set(still_open.values_list("user_uuid", flat=True)))
        count = still_open.update(revoked_at=now or timezone.now(), revoked_reason=reason)
        for user_uuid in user_uuids:
            credentials_revoked.send(sender=RefreshTokenFamily, user_uuid=user_uuid)
    return count


# --- API keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedApiKey:
    name: str
    key: str  # shown once; only its digest is stored
    scopes: list[str]


def api_key_create(
    *, name: str, scopes: list[str], created_by_uuid: uuid.UUID | None = None
) -> CreatedApiKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError(
            {
                "name": ValidationError(
                    "Give the key a name of 1 to 100 characters.", code=AuthErrorCode.INVALID
                )
            }
        )
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": ValidationError(
                    f"Choose one or more of {', '.join(ApiScope.values)}.",
                    code=AuthErrorCode.INVALID,
                )
            }
        )
    prefix, key = new_api_key()
    with transaction.atomic():
        if ApiKey.objects.filter(name=name).exists():
            raise ValidationError(
                {
                    "name": ValidationError(
                        "An API key with this name exists.", code=AuthErrorCode.API_KEY_NAME_TAKEN
                    )
                }
            )
        ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_digest=secret_digest(key),
            scopes=sorted(set(scopes)),
            created_by_uuid=created_by_uuid,
        )
    return CreatedApiKey(name=name, key=key, scopes=sorted(set(scopes)))


def api_key_revoke(*, name: str) -> None:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(name=name)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            credentials_revoked.send(sender=ApiKey, api_key_name=api_key.name)


# --- phone numbers and verification codes --------------------------------------------------------


def configured_test_numbers() -> dict[str, str]:
    """AUTH_TEST_PHONE_NUMBERS as {E.164 number: fixed code} (never set in production)."""
    numbers: dict[str, str] = {}
    for entry in settings.AUTH_TEST_PHONE_NUMBERS.split(","):
        number, _, code = entry.strip().partition(":")
        if number and code:
            numbers[user_api.normalise_phone_number(number, require_valid=False)] = code.strip()
    return numbers


def phone_number_from_input(raw: str) -> str:
    """E.164 form of a number a client sent; INVALID_PHONE_NUMBER (field phoneNumber) otherwise."""
    try:
        return user_api.normalise_phone_number(raw)
    except ValidationError:
        # Configured test numbers may be fictional (+1 555 …): accept them as configured.
        try:
            loose = user_api.normalise_phone_number(raw, require_valid=False)
        except ValidationError:
            loose = None
        if loose is not None and loose in configured_test_numbers():
            return loose
        raise ValidationError(
            {
                "phone_number": ValidationError(
                    "Enter a phone number in international form, e.g. +821012345678.",
                    code=AuthErrorCode.INVALID_PHONE_NUMBER,
                )
            }
        ) from None


def phone_number_status_check(
    *, phone_number: str, client: str, now: dt.datetime | None = None
) -> user_api.PhoneNumberStatus:
    """Whether a number is registered or banned, rate limited per client address and per number."""
    e164 = phone_number_from_input(phone_number)
    limit = settings.PHONE_STATUS_RATE_LIMIT_PER_MINUTE
    minute = dt.timedelta(minutes=1)
    rate_limits.ensure_within(
        rate_limit_key("phone-status:ip", client), limit=limit, window=minute, now=now
    )
    rate_limits.ensure_within(
        rate_limit_key("phone-status:number", e164), limit=limit, window=minute, now=now
    )
    return user_api.phone_number_status(e164)


def _lock_phone_number(digest: str, now: dt.datetime) -> None:
    """Serialise code requests for one number (the daily count must not be raced past)."""
    while True:  # the housekeeping purge may delete an old row between the two steps
        PhoneNumberLock.objects.bulk_create(
            [PhoneNumberLock(phone_digest=digest)], ignore_conflicts=True
        )
        if (
            PhoneNumberLock.objects.select_for_update()
            .filter(phone_digest=digest)
            .update(last_requested_at=now)
        ):
            return


def _show_code_in_console(
    phone_number: str, purpose: str, code: str, expires_at: dt.datetime
) -> None:
    # Development stand-in for the SMS notifier; settings refuse this switch in production.
    if settings.AUTH_PRINT_VERIFICATION_CODES and not settings.IS_PRODUCTION:
        sys.stdout.write(
            f"[majestic] {purpose} verification code for {phone_number}: {code} "
            f"(expires {expires_at:%H:%M:%S} UTC)\n"
        )
        sys.stdout.flush()


def verification_code_request(
    *, phone_number: str, purpose: str, client: str = "unknown", now: dt.datetime | None = None
) -> dt.datetime:
    """Issue a 6-digit code for `phone_number` and send it (event); returns when it expires.

    The answer is the same whether the number is registered or not: a SIGN_IN code for an unknown
    number and a SIGN_UP code for a registered one are issued and sent like any other, and the
    mismatch is told only to whoever proves they hold the phone (signInWithCode answers
    PHONE_NUMBER_NOT_REGISTERED, signUp PHONE_NUMBER_TAKEN). Only banned numbers are refused here,
    which phoneNumberStatus already tells anyone.
    """
    now = now or timezone.now()
    if purpose not in VerificationPurpose.values:
        raise ValidationError(
            {"purpose": ValidationError("Choose SIGN_IN or SIGN_UP.", code=AuthErrorCode.INVALID)}
        )
    e164 = phone_number_from_input(phone_number)
    if user_api.phone_number_status(e164).banned:
        raise ValidationError(
            {
                "phone_number": ValidationError(
                    "This phone number is banned.", code=AuthErrorCode.PHONE_NUMBER_BANNED
                )
            }
        )
    fixed_code = configured_test_numbers().get(e164)
    digest = phone_digest(e164)
    expires_at = now + settings.VERIFICATION_CODE_TTL
    with transaction.atomic():
        rate_limits.ensure_within(
            rate_limit_key("verification-code:ip", client),
            limit=settings.VERIFICATION_CODE_IP_HOURLY_LIMIT,
            window=dt.timedelta(hours=1),
            now=now,
        )
        _lock_phone_number(digest, now)
        # Counted from the code rows themselves: a rolling 24 h that needs no cache. Test numbers
        # send nothing, so they are not limited.
        sent_today = VerificationCode.objects.filter(
            phone_digest=digest, created_at__gt=now - dt.timedelta(hours=24)
        ).count()
        if fixed_code is None and sent_today >= settings.VERIFICATION_CODE_DAILY_LIMIT:
            raise ValidationError(
                "Too many codes were sent to this number today; try again tomorrow.",
                code=AuthErrorCode.RATE_LIMITED,
            )
        # One live code per number: a new request retires the earlier ones (and their tries).
        VerificationCode.objects.filter(
            phone_digest=digest, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        code = fixed_code or new_verification_code()
        VerificationCode.objects.create(
            phone_digest=digest,
            purpose=purpose,
            code_digest=verification_code_digest(e164, code),
            created_at=now,
            expires_at=expires_at,
        )
        if fixed_code is None:
            emit(
                VerificationCodeRequested(
                    phone_number=e164,
                    purpose=cast("Literal['SIGN_IN', 'SIGN_UP']", purpose),  # checked above
                    expires_at=expires_at.isoformat().replace("+00:00", "Z"),
                    sealed_code=seal(code),
                )
            )
            transaction.on_commit(partial(_show_code_in_console, e164, purpose, code, expires_at))
    return expires_at


# Every way a code fails (none pending for the number, wrong, expired, tries used up) gets this
# one answer: distinct ones told a guesser whether a code was pending for a number, how many tries
# were left and whether it had expired. Wrong codes still count and the limit still holds.
CODE_REFUSED_MESSAGE = "This code is not valid. Check it, or request a new one."


def _code_refused() -> ValidationError:
    return ValidationError(
        {"code": ValidationError(CODE_REFUSED_MESSAGE, code=AuthErrorCode.INVALID_CODE)}
    )


def _use_verification_code(
    *, phone_number: str, purpose: str, code: str, now: dt.datetime
) -> ValidationError | None:
    """Check `code` inside the caller's transaction: None when it matches (it is then used up).

    A wrong code counts as an attempt and the caller must commit before raising the returned
    error, or the attempt limit would not hold. Every failure is the same `_code_refused()`.
    """
    digest = phone_digest(phone_number)
    candidate = (
        VerificationCode.objects.select_for_update()
        .filter(
            phone_digest=digest, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if (
        candidate is None
        or candidate.failed_attempts >= settings.VERIFICATION_CODE_MAX_ATTEMPTS
        or candidate.expires_at <= now
    ):
        return _code_refused()  # past the limit, even the right code is refused
    submitted = str(code).strip()
    if not (
        len(submitted) == 6 and submitted.isascii() and submitted.isdigit()
    ) or not digests_match(
        verification_code_digest(phone_number, submitted), candidate.code_digest
    ):
        candidate.failed_attempts += 1
        candidate.save(update_fields=["failed_attempts"])
        return _code_refused()
    candidate.used_at = now
    candidate.save(update_fields=["used_at"])
    return None


def sign_in_with_code(*, phone_number: str, code: str, now: dt.datetime | None = None) -> Session:
    now = now or timezone.now()
    e164 = phone_number_from_input(phone_number)
    failure: ValidationError | None = None
    with transaction.atomic():
        failure = _use_verification_code(
            phone_number=e164, purpose=VerificationPurpose.SIGN_IN, code=code, now=now
        )
        if failure is None:
            user_uuid = user_api.user_uuid_for_phone_number(e164)
            if user_uuid is None:
                failure = ValidationError(
                    {
                        "phone_number": ValidationError(
                            "No account uses this phone number; sign up instead.",
                            code=AuthErrorCode.PHONE_NUMBER_NOT_REGISTERED,
                        )
                    }
                )
            else:
                session = session_start(user_uuid=user_uuid, now=now)
                user_api.record_sign_in(user_uuid)
    if failure is not None:
        raise failure
    return session


# The user type nobody may sign up as (users' `type`; the GraphQL UserType value).
SELF_SIGN_UP_REFUSED_TYPE = "STAFF"


def sign_up(
    *,
    phone_number: str,
    code: str,
    user_type: str,
    full_name: str,
    date_of_birth: dt.date | None,
    now: dt.datetime | None = None,
) -> Session:
    """Create a user (and profile) for a number proven by a SIGN_UP code, and sign them in.

    Drivers only: nobody makes themselves staff. A staff account is made by an admin (Django
    admin, who also grants staff powers) or by the demo seed; signUp as STAFF is refused before
    anything else is looked at, so the code stays usable.
    """
    if user_type == SELF_SIGN_UP_REFUSED_TYPE:
        raise ValidationError(
            {
                "user_type": ValidationError(
                    "Staff accounts are created by an administrator; sign up as a DRIVER.",
                    code=AuthErrorCode.STAFF_SIGN_UP_NOT_ALLOWED,
                )
            }
        )
    now = now or timezone.now()
    e164 = phone_number_from_input(phone_number)
    # A typo in the name must not use up the code: check the profile before the code.
    user_api.check_profile(full_name=full_name, date_of_birth=date_of_birth)
    if user_api.phone_number_status(e164).banned:
        raise ValidationError(
            {
                "phone_number": ValidationError(
                    "This phone number is banned.", code=AuthErrorCode.PHONE_NUMBER_BANNED
                )
            }
        )
    failure: ValidationError | None = None
    with transaction.atomic():
        failure = _use_verification_code(
            phone_number=e164, purpose=VerificationPurpose.SIGN_UP, code=code, now=now
        )
        if failure is None:
            try:
                with transaction.atomic():
                    user = user_api.register_user(
                        phone_number=e164,
                        user_type=user_type,
                        full_name=full_name,
                        date_of_birth=date_of_birth,
                    )
                    session = session_start(user_uuid=user.uuid, now=now)
            except ValidationError as exc:
                failure = exc
    if failure is not None:
        raise failure
    return session


_Checked = TypeVar("_Checked")


def sign_in_with_password(
    *, username: str, password: str, client: str = "unknown", now: dt.datetime | None = None
) -> Session:
    """Staff sign-in. Wrong username and wrong password get the same answer and the same limits
    (`password_attempt_limited`)."""
    now = now or timezone.now()
    user_uuid = password_attempt_limited(
        username=username,
        client=client,
        check=lambda: user_api.staff_uuid_for_password(username, password),
        now=now,
    )
    if user_uuid is None:
        raise ValidationError(
            "The username or password is wrong.", code=AuthErrorCode.INVALID_CREDENTIALS
        )
    session = session_start(user_uuid=user_uuid, now=now)
    user_api.record_sign_in(user_uuid)
    return session


def password_attempt_limited(
    *,
    username: str,
    client: str,
    check: Callable[[], _Checked | None],
    now: dt.datetime | None = None,
) -> _Checked | None:
    """Run `check` (a password check: a result, or None when wrong) under the sign-in limits, for
    GraphQL's signInWithPassword and the admin's login alike; RATE_LIMITED past a limit.

    Per minute: SIGN_IN_RATE_LIMIT_PER_MINUTE attempts from one client address, as many failures
    for one username from one address, and SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE (much looser)
    for one username from all addresses together. Only failures stay counted against the username,
    so a few wrong passwords sent from elsewhere cannot lock its staff member out; the looser limit
    still bounds guessing from many addresses. An attempt takes its username slots before the
    password is checked (so concurrent guesses cannot all slip under a limit) and a success gives
    them back; past a limit no password is checked, for known and unknown usernames alike.
    """
    now = now or timezone.now()
    minute = dt.timedelta(minutes=1)
    per_address = settings.SIGN_IN_RATE_LIMIT_PER_MINUTE
    rate_limits.ensure_within(
        rate_limit_key("sign-in:ip", client), limit=per_address, window=minute, now=now
    )
    name = username.strip().lower()
    name_at_client = f"{name}\n{client}"  # an address holds no newline: the pair is unambiguous
    username_limits = [
        (rate_limit_key("sign-in:user-ip", name_at_client), per_address),
        (rate_limit_key("sign-in:user", name), settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE),
    ]
    rate_limits.take_all(username_limits, window=minute, now=now)
    result = check()
    if result is not None:  # a failure stays counted
        rate_limits.give_back([key for key, _ in username_limits], now=now)
    return result


# --- housekeeping --------------------------------------------------------------------------------


def expired_credentials_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what can no longer be used or counted; returns how many rows of each kind went."""
    now = now or timezone.now()
    day_ago = now - dt.timedelta(hours=24)
    with transaction.atomic():
        # Codes stay 24 h after they are made: they are what the daily limit counts.
        codes, _ = VerificationCode.objects.filter(
            created_at__lt=day_ago, expires_at__lt=now
        ).delete()
        locks, _ = PhoneNumberLock.objects.filter(last_requested_at__lt=day_ago).delete()
        windows, _ = RateLimitWindow.objects.filter(expires_at__lt=now).delete()
        tokens, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
        # A session with no usable token left is over; its access tokens expired long before.
        sessions, _ = (
            RefreshTokenFamily.objects.filter(created_at__lt=now - settings.ACCESS_TOKEN_LIFETIME)
            .exclude(tokens__isnull=False)
            .delete()
        )
    return {
        "verification_codes": codes,
        "phone_number_locks": locks,
        "rate_limit_windows": windows,
        "refresh_tokens": tokens,
        "sessions": sessions,
    }
