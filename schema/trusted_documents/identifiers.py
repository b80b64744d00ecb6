"""Document ids: `sha256:<hex>` (GraphQL-over-HTTP persisted documents) and APQ's bare hex."""

from __future__ import annotations

import hashlib
import re

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


def document_hash(body: str) -> str:
    """The lowercase hex SHA-256 of the body's UTF-8 bytes: what both id forms carry."""
    return hashlib.sha256(body.encode()).hexdigest()


def document_id(body: str) -> str:
    return PREFIX + document_hash(body)


def is_hash(value: object) -> bool:
    """Whether `value` is 64 lowercase hex digits (APQ's sha256Hash)."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def hash_of_document_id(value: object) -> str | None:
    """The hex part of a well-formed `sha256:<hex>` id; None for anything else."""
    if isinstance(value, str) and value.startswith(PREFIX) and is_hash(value[len(PREFIX) :]):
        return value[len(PREFIX) :]
    return None
