"""The one way the functions call the GraphQL gateway.

In AWS (GATEWAY_URL set by the template): HTTP POST with `Authorization: Api-Key <key>`, the key
read once per cold start from the SSM SecureString named by GATEWAY_API_KEY_PARAMETER (or from
GATEWAY_API_KEY), and `X-Correlation-ID` so the gateway's logs and the events it emits continue
the chain. Standard library only: the Lambda package carries no dependencies.

Each function's operations are fixed `Operation`s: over HTTP the client sends each with its
document id and its text together (`{"documentId": "sha256:<hex>", "query": ...}`, the
GraphQL-over-HTTP persisted documents form, with a W3C `traceparent` header when tracing is on:
shared/tracing.py), one request in every mode: a gateway with
GRAPHQL_TRUSTED_DOCUMENTS off runs the text, one with `require` runs it only when the id is
registered (the repository's `trusted-documents.json`, generated from these operations:
`manage.py trusted_documents manifest`), and refuses it otherwise (PERSISTED_QUERY_NOT_FOUND).

In-process (the local bus): the callable at settings.LOCAL_GATEWAY_CLIENT runs the schema as a
machine principal with the function's scopes; resolved at run time, so these functions never
import the monolith's code.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import tracing
from .runtime import import_dotted, setting

DEFAULT_LOCAL_CLIENT = "schema.transports.local_client.execute"
TIMEOUT_SECONDS = 10


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
        execute = import_dotted(setting("LOCAL_GATEWAY_CLIENT") or DEFAULT_LOCAL_CLIENT)
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
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Api-Key {api_key()}",
        }
        if self.correlation_id:
            headers["X-Correlation-ID"] = self.correlation_id
        headers.update(tracing.trace_headers())  # W3C traceparent, when tracing is on
        body = json.dumps(request_body).encode()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked above)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            try:
                # GraphQL errors come as JSON bodies with a code
                refusal: dict[str, Any] = json.loads(exc.read())
                return refusal
            except ValueError:
                raise GatewayError(f"The gateway answered HTTP {exc.code}.") from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise GatewayError(f"The gateway is unreachable: {type(exc).__name__}") from exc


_api_key_lock = threading.Lock()
_api_key: str | None = None


def api_key() -> str:
    """The function's API key, fetched once per cold start (never logged)."""
    global _api_key
    with _api_key_lock:
        if _api_key is None:
            direct = os.environ.get("GATEWAY_API_KEY")
            parameter = os.environ.get("GATEWAY_API_KEY_PARAMETER")
            if direct:
                _api_key = direct
            elif parameter:
                import boto3  # in the Lambda runtime

                response = boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
                _api_key = response["Parameter"]["Value"]
            else:
                raise GatewayError(
                    "Set GATEWAY_API_KEY_PARAMETER (or GATEWAY_API_KEY) to call the gateway."
                )
        return _api_key
