"""What the transports call: the text a request runs, by GRAPHQL_TRUSTED_DOCUMENTS.

A request names a document by `documentId: "sha256:<hex>"` (the GraphQL-over-HTTP persisted
documents appendix) or by `extensions.persistedQuery.sha256Hash` (Apollo's APQ), or sends text in
`query`. The modes:

- `off`: text only, as before; a request that names a document without text is refused
  (PERSISTED_QUERY_NOT_SUPPORTED), so APQ clients fall back to sending text.
- `allow`: registered documents by id, APQ registration (hash and text together), free text.
- `require`: registered documents only (by id, or as their exact text); other text only from
  staff or an API key with the FREE_TEXT_OPERATIONS scope (GraphiQL keeps working for them), and
  nothing is registered by APQ.

Every refusal is a `DocumentRefused` with a code and the HTTP status to answer with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from modules.auth.api import Principal
from schema.trusted_documents import apq, identifiers, selectors

FREE_TEXT_SCOPE = "FREE_TEXT_OPERATIONS"
MODES = ("off", "allow", "require")


class DocumentRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _persisted_query(params: Mapping[str, Any]) -> object:
    extensions = params.get("extensions")
    return extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None


def names_document(params: Mapping[str, Any]) -> bool:
    """Whether the request names a document by id (then `query` may be absent)."""
    return params.get("documentId") is not None or _persisted_query(params) is not None


def _requested_hash(params: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(hex hash the request names or None, whether it came as APQ); malformed ids refused."""
    document_id = params.get("documentId")
    persisted = _persisted_query(params)
    apq_hash: str | None = None
    if persisted is not None:
        if (
            not isinstance(persisted, Mapping)
            or persisted.get("version") != 1
            or not identifiers.is_hash(persisted.get("sha256Hash"))
        ):
            raise DocumentRefused(
                "PERSISTED_QUERY_ID_MALFORMED",
                "extensions.persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex"
                " digits>}.",
            )
        apq_hash = str(persisted["sha256Hash"])
    if document_id is None:
        return apq_hash, apq_hash is not None
    requested = identifiers.hash_of_document_id(document_id)
    if requested is None:
        raise DocumentRefused(
            "PERSISTED_QUERY_ID_MALFORMED",
            "documentId must be sha256:<64 lowercase hex digits of the document's SHA-256>.",
        )
    if apq_hash is not None and apq_hash != requested:
        raise DocumentRefused(
            "PERSISTED_QUERY_HASH_MISMATCH",
            "documentId and extensions.persistedQuery name different documents.",
        )
    return requested, False


def may_send_free_text(principal: Principal) -> bool:
    return principal.is_staff or principal.has_scope(FREE_TEXT_SCOPE)


def _free_text(text: str, principal: Principal, mode: str) -> str:
    # Text that is a registered document is that document (a safelist, as Apollo Router's):
    # clients such as the ops dashboard need not send ids.
    if (
        mode == "require"
        and not may_send_free_text(principal)
        and selectors.trusted_document_body(identifiers.document_id(text)) is None
    ):
        raise DocumentRefused(
            "PERSISTED_QUERY_ID_REQUIRED",
            "This server runs registered documents only: send a documentId"
            " (or extensions.persistedQuery) instead of query text.",
        )
    return text


def document_for(params: Mapping[str, Any], principal: Principal) -> str:
    """The text to run for this request's parameters (`query`, `documentId`, `extensions`)."""
    text = params.get("query")
    if text is not None and not isinstance(text, str):
        raise DocumentRefused("BAD_REQUEST", "`query` must be a string.")
    text = text if text and text.strip() else None
    mode = settings.GRAPHQL_TRUSTED_DOCUMENTS
    if mode == "off":
        if text is None:
            if names_document(params):
                raise DocumentRefused(
                    "PERSISTED_QUERY_NOT_SUPPORTED",
                    "This server does not run documents by id: send the query text.",
                )
            raise DocumentRefused("BAD_REQUEST", "`query` must be a non-empty string.")
        return text  # as before: an id next to text is ignored
    requested, as_apq = _requested_hash(params)
    if requested is None:
        if text is None:
            raise DocumentRefused("BAD_REQUEST", "Send `query` text or a `documentId`.")
        return _free_text(text, principal, mode)
    if text is not None and identifiers.document_hash(text) != requested:
        raise DocumentRefused(
            "PERSISTED_QUERY_HASH_MISMATCH",
            "The query text does not match the id sent with it (its SHA-256 differs).",
        )
    body = selectors.trusted_document_body(identifiers.PREFIX + requested)
    if body is not None:
        return body
    if mode == "allow":
        registered = apq.registered_text(requested)
        if registered is not None:
            return registered
        if text is not None:
            if as_apq:
                apq.register(requested, text)
            return text
    elif text is not None and may_send_free_text(principal):
        return text  # unregistered and never registered here: run for this caller only
    raise DocumentRefused(
        "PERSISTED_QUERY_NOT_FOUND", "No document is registered under this id.", status=404
    )
