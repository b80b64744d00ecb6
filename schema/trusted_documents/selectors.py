"""Reads of the registered documents, through a small in-process cache.

Only documents that exist are cached (an id imported by another process is seen at once); an
entry lives GRAPHQL_TRUSTED_DOCUMENTS_CACHE_SECONDS, so a removal made by another process (the
management command) takes effect within that time, and at once in the process that made it.
"""

from __future__ import annotations

import threading
from time import monotonic

from django.conf import settings
from django.db.models import QuerySet

from schema.trusted_documents.models import TrustedDocument

CACHE_ENTRIES = 2000  # far above any client's set of operations; bounds memory all the same

_lock = threading.Lock()
_bodies: dict[str, tuple[float, str]] = {}  # document id -> (expiry on monotonic(), body)


def trusted_document_body(document_id: str) -> str | None:
    """The body registered under `document_id` (`sha256:<hex>`), or None."""
    now = monotonic()
    with _lock:
        cached = _bodies.get(document_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    body = (
        TrustedDocument.objects.filter(document_id=document_id)
        .values_list("body", flat=True)
        .first()
    )
    if body is not None:
        with _lock:
            if len(_bodies) >= CACHE_ENTRIES:
                _bodies.clear()  # rare enough that an LRU would not earn its keep
            _bodies[document_id] = (now + settings.GRAPHQL_TRUSTED_DOCUMENTS_CACHE_SECONDS, body)
    return body


def forget_cached_documents() -> None:
    """Drop this process's cache (after any change to the table)."""
    with _lock:
        _bodies.clear()


def trusted_documents_list() -> QuerySet[TrustedDocument]:
    return TrustedDocument.objects.all()
