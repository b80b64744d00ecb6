"""Opens a secret sealed inside an event (the verification code), where the function runs.

`kms:<base64>` values were sealed with the template's SealingKey: KMS decrypts them under the same
encryption context (the notification role alone may). Other values were sealed locally; they open
only in-process, with the opener the monolith names in settings.EVENTS_SEALING_OPENER (resolved
at run time: a Lambda package carries no monolith code, and this file names none). In AWS such a
value is refused as unopenable: the gateway seals with KMS there (EVENTS_SEALING_KMS_KEY).
"""

from __future__ import annotations

import base64
import os
from typing import Any

from .runtime import import_dotted, setting

KMS_PREFIX = "kms:"
KMS_ENCRYPTION_CONTEXT = {"purpose": "majestic.events.sealed"}  # as events/sealing.py seals


class SealUnopenable(ValueError):
    """The sealed value does not open (tampered with, or sealed under another key)."""


def open_sealed(sealed: str) -> str:
    if sealed.startswith(KMS_PREFIX):
        return _open_with_kms(sealed[len(KMS_PREFIX) :])
    opener_path = setting("EVENTS_SEALING_OPENER")
    if not opener_path:
        raise SealUnopenable(
            "Only KMS-sealed values open here: seal with EVENTS_SEALING_KMS_KEY in AWS."
        )
    opener = import_dotted(opener_path)
    try:
        plain: str = opener(sealed)
        return plain
    except ValueError as exc:
        raise SealUnopenable("The sealed value does not open with the local key.") from exc


def _open_with_kms(encoded: str) -> str:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    arguments: dict[str, Any] = {"EncryptionContext": KMS_ENCRYPTION_CONTEXT}
    key_arn = os.environ.get("SEALING_KEY_ARN")
    if key_arn:
        arguments["KeyId"] = key_arn  # refuse ciphertexts of any other key
    try:
        arguments["CiphertextBlob"] = base64.b64decode(encoded, validate=True)
        plain: str = boto3.client("kms").decrypt(**arguments)["Plaintext"].decode()
        return plain
    except (ValueError, BotoCoreError, ClientError) as exc:
        raise SealUnopenable(
            f"KMS could not open the sealed value ({type(exc).__name__})."
        ) from exc
