"""Sealing: a secret that must travel inside an event (a verification code) is encrypted first.

Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under a key derived from
settings.EVENTS_SEALING_KEY; outside production an empty setting falls back to a key derived from
SECRET_KEY, there the checkout's own random key unless set (config/secret_keys.py): never a public
value, so a sealed code does not open from what the repository shows. Whoever holds the key (the
notification function) opens it with `open_sealed_code`; the event archive, the bus and the logs
only ever see ciphertext.

In AWS, `EVENTS_SEALING_KMS_KEY` (the template's SealingKey) seals with KMS instead: the value is
`kms:<base64 ciphertext>` under an encryption context naming its purpose, and only the
notification function's role may decrypt it (infra/functions/shared/sealing.py opens it there).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SealBroken(ValueError):
    """The sealed value was tampered with or sealed under another key."""


def _fernet() -> Fernet:
    secret = settings.EVENTS_SEALING_KEY
    if not secret:
        if settings.IS_PRODUCTION:
            raise ImproperlyConfigured("EVENTS_SEALING_KEY is required in production")
        secret = "derived-from-secret-key\0" + settings.SECRET_KEY
    # Any string works as the setting: the Fernet key is derived from it.
    key = hashlib.sha256(f"majestic.events.sealing\0{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


KMS_PREFIX = "kms:"
# Bound into every KMS ciphertext: a sealed code cannot be replayed as some other secret.
KMS_ENCRYPTION_CONTEXT = {"purpose": "majestic.events.sealed"}


def seal(plain: str) -> str:
    if settings.EVENTS_SEALING_KMS_KEY:
        return _kms_seal(plain)
    return _fernet().encrypt(plain.encode()).decode()


def open_sealed_code(sealed: str) -> str:
    """The plain text of `sealed`; SealBroken when it does not authenticate."""
    if sealed.startswith(KMS_PREFIX):
        return _kms_open(sealed)
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise SealBroken("The sealed value does not open with this key.") from exc


def _kms_client() -> Any:
    import boto3  # only when sealing with KMS

    return boto3.client("kms")


def _kms_seal(plain: str) -> str:
    response = _kms_client().encrypt(
        KeyId=settings.EVENTS_SEALING_KMS_KEY,
        Plaintext=plain.encode(),
        EncryptionContext=KMS_ENCRYPTION_CONTEXT,
    )
    return KMS_PREFIX + base64.b64encode(response["CiphertextBlob"]).decode()


def _kms_open(sealed: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = base64.b64decode(sealed[len(KMS_PREFIX) :], validate=True)
        arguments: dict[str, Any] = {
            "CiphertextBlob": blob,
            "EncryptionContext": KMS_ENCRYPTION_CONTEXT,
        }
        if settings.EVENTS_SEALING_KMS_KEY:
            arguments["KeyId"] = settings.EVENTS_SEALING_KMS_KEY
        response = _kms_client().decrypt(**arguments)
    except (ValueError, BotoCoreError, ClientError) as exc:
        raise SealBroken("The sealed value does not open with KMS.") from exc
    plain: str = response["Plaintext"].decode()
    return plain
