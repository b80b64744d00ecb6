"""The one way the functions call the GraphQL gateway.

In AWS (GATEWAY_URL set by the template): HTTP POST with `Authorization: Api-Key <key>`, the key
read from the SSM SecureString named by GATEWAY_API_KEY_PARAMETER (or from GATEWAY_API_KEY), and
`X-Correlation-ID` so the gateway's logs and the events it emits continue the chain. The key is
kept GATEWAY_API_KEY_TTL_SECONDS (300) and read again at once when the gateway answers 401, so a
rotated key works without a cold start. Standard library, and boto3 for SSM only.

Each function's operations are fixed `Operation`s: over HTTP the client sends each with its
document id and its text together (`{"documentId": "sha256:<hex>", "query": ...}`, the
GraphQL-over-HTTP persisted documents form, with a W3C `traceparent` header when tracing is on:
shared/tracing.py), one request in every mode: a gateway with
GRAPHQL_TRUSTED_DOCUMENTS off runs the text, one with `require` runs it only when the id is
registered (the repository's `trusted-documents.json`, generated from these operations:
`manage.py trusted_documents manifest`), and refuses it otherwise (PERSISTED_QUERY_NOT_FOUND).

In-process (the local bus): the callable at settings.LOCAL_GATEWAY_CLIENT runs the schema as a
machine principal with the function's scopes; the monolith names it and it is resolved at run
time, so these functions never import (nor name) the monolith's code.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import tracing
from .runtime import import_dotted, setting

TIMEOUT_SECONDS = 10
DEFAULT_API_KEY_TTL_SECONDS = 300.0


class GatewayError(RuntimeError):
    """The gateway failed or refused; the handler fails with it, so the event is retried."""

    def __init__(self, message: str, codes: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.codes = list(codes)


@dataclass(frozen=True)
class Operation:
    """One fixed GraphQL document a function sends; its id is the SHA-256 of its text."""

    name: str
    text: str

    @property
    def document_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.text.encode()).hexdigest()


def _error_codes(result: dict[str, Any]) -> list[str]:
    errors = result.get("errors") or []
    return [str((e.get("extensions") or {}).get("code", "ERROR")) for e in errors]


@dataclass(frozen=True)
class Gateway:
    function_name: str
    scopes: tuple[str, ...]  # what the function's API key carries; used as such in-process
    correlation_id: str = ""

    def execute(
        self, operation: Operation, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The GraphQL response's `data`; GatewayError for top-level errors."""
        url = os.environ.get("GATEWAY_URL")
        with tracing.call_span(operation.name):  # the callback's traceparent names this span
            result = (
                self._over_http(
                    url,
                    {
                        "documentId": operation.document_id,
                        "query": operation.text,
                        "variables": variables or {},
                    },
                )
                if url
                else self._in_process(operation.text, variables or {})
            )
        codes = _error_codes(result)
        if codes:
            raise GatewayError(f"The gateway answered with errors: {', '.join(codes)}", codes)
        return result.get("data") or {}

    def mutate(self, field: str, operation: Operation, variables: dict[str, Any]) -> dict[str, Any]:
        """The payload of mutation `field`; GatewayError when it carries typed errors."""
        payload = self.execute(operation, variables).get(field) or {}
        errors = payload.get("errors") or []
        if errors:
            codes = [str(e.get("code")) for e in errors]
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
            raise GatewayError(f"{field} was refused: {detail}", codes)
        return payload

    def _in_process(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        client = setting("LOCAL_GATEWAY_CLIENT")
        if not client:
            raise GatewayError("Set GATEWAY_URL (in AWS) or LOCAL_GATEWAY_CLIENT (in-process).")
        execute = import_dotted(client)
        response: dict[str, Any] = execute(
            query,
            variables,
            api_key_scopes=list(self.scopes),
            name=f"function:{self.function_name}",
            correlation_id=self.correlation_id,
        )
        return response

    def _over_http(self, url: str, request_body: dict[str, Any]) -> dict[str, Any]:
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            raise GatewayError("GATEWAY_URL must be an http(s) URL.")
        key = api_key()
        status, answer = self._post(url, request_body, key)
        if status == 401:
            # The key may have been rotated since it was read: read it again, once.
            fresh = api_key(refresh=True)
            if fresh != key:
                status, answer = self._post(url, request_body, fresh)
        return answer

    def _post(self, url: str, request_body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Api-Key {key}",
        }
        if self.correlation_id:
            headers["X-Correlation-ID"] = self.correlation_id
        headers.update(tracing.trace_headers())  # W3C traceparent, when tracing is on
        body = json.dumps(request_body).encode()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked above)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return response.status, answer
        except urllib.error.HTTPError as exc:
            try:
                # GraphQL errors come as JSON bodies with a code
                refusal: dict[str, Any] = json.loads(exc.read())
                return exc.code, refusal
            except ValueError:
                raise GatewayError(f"The gateway answered HTTP {exc.code}.") from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise GatewayError(f"The gateway is unreachable: {type(exc).__name__}") from exc


_api_key_lock = threading.Lock()
_api_key: str | None = None  # as read from SSM; None: not yet (a cold start)
_api_key_read_at = 0.0
_clock = time.monotonic  # module-level, so a test can move time on


def api_key(*, refresh: bool = False) -> str:
    """The function's API key (never logged): GATEWAY_API_KEY, else the SSM parameter, read at
    most every GATEWAY_API_KEY_TTL_SECONDS or when `refresh` (the gateway refused the key)."""
    global _api_key, _api_key_read_at
    direct = os.environ.get("GATEWAY_API_KEY")
    if direct:
        return direct
    parameter = os.environ.get("GATEWAY_API_KEY_PARAMETER")
    if not parameter:
        raise GatewayError(
            "Set GATEWAY_API_KEY_PARAMETER (or GATEWAY_API_KEY) to call the gateway."
        )
    with _api_key_lock:
        now = _clock()
        if refresh or _api_key is None or now - _api_key_read_at >= _api_key_ttl():
            import boto3  # only where the key is in SSM

            response = boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
            _api_key, _api_key_read_at = response["Parameter"]["Value"], now
        return _api_key


def _api_key_ttl() -> float:
    try:
        return float(os.environ.get("GATEWAY_API_KEY_TTL_SECONDS") or DEFAULT_API_KEY_TTL_SECONDS)
    except ValueError:
        return DEFAULT_API_KEY_TTL_SECONDS
