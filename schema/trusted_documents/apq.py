"""Automatic persisted queries (Apollo's APQ): text a client registered under its hash.

Only where the mode lets anyone send free text (`allow`), so a registration grants nothing that
sending the text would not. Kept in Django's cache (Redis when REDIS_URL is set, shared by every
process; process memory otherwise), never in the trusted table: a cache entry expires, so
whatever anonymous clients register is bounded.
"""

from __future__ import annotations

from django.core.cache import cache

REGISTRATION_SECONDS = 24 * 3600
# Longer text still runs in mode allow, but is not kept: a cache entry per request of up to
# GRAPHQL_MAX_BODY_BYTES would let any client fill Redis. Real operations are far shorter.
MAX_REGISTERED_CHARS = 20_000


def _key(document_hash: str) -> str:
    return f"trusted-documents:apq:{document_hash}"


def registered_text(document_hash: str) -> str | None:
    text = cache.get(_key(document_hash))
    return text if isinstance(text, str) else None


def register(document_hash: str, text: str) -> None:
    if len(text) <= MAX_REGISTERED_CHARS:
        cache.set(_key(document_hash), text, REGISTRATION_SECONDS)
