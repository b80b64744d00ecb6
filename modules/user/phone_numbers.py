"""Phone numbers as users have them: E.164 strings, checked with the `phonenumbers` library."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

from modules.user.errors import UserErrorCode

MAX_INPUT_LENGTH = 32  # longer than any formatted number; refuses junk before parsing it


def normalise_phone_number(raw: str, *, require_valid: bool = True) -> str:
    """`raw` (international form, separators allowed) as E.164; INVALID_PHONE_NUMBER otherwise.

    `require_valid` asks the numbering plan whether the number can exist; without it only the
    length and shape are checked (fictional test numbers such as +1 555 000 0001 pass).
    """
    message = "Enter a phone number in international form, e.g. +821012345678."
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise ValidationError(message, code=UserErrorCode.INVALID_PHONE_NUMBER)
    try:
        parsed = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(message, code=UserErrorCode.INVALID_PHONE_NUMBER) from exc
    ok = (
        phonenumbers.is_valid_number(parsed)
        if require_valid
        else phonenumbers.is_possible_number(parsed)
    )
    if not ok:
        raise ValidationError(message, code=UserErrorCode.INVALID_PHONE_NUMBER)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_phone_number(value: str) -> None:
    """Model-field validator (admin, createsuperuser): a possible number in international form."""
    normalise_phone_number(value, require_valid=False)


def banned_phone_digest(phone_number: str) -> str:
    """Keyed digest kept when a user is banned: refuses the number later without storing it."""
    key = hashlib.sha256(
        f"majestic.user.banned-phone\0{settings.BANNED_PHONE_DIGEST_KEY}".encode()
    ).digest()
    return hmac.new(key, phone_number.encode(), hashlib.sha256).hexdigest()
