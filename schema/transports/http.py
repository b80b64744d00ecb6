"""GraphQL over HTTP (the GraphQL-over-HTTP spec), plus GraphiQL for browsers.

Strawberry's Django view answers request errors in plain text and always with 200 for JSON;
the spec wants JSON error bodies, 4xx for request errors under
`application/graphql-response+json`, 405 for mutations over GET and 415 for other media types.
"""

from __future__ import annotations

import json
from typing import Any, cast

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views import View
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from modules.auth.api import AuthenticationFailed, authenticate, client_address_from
from request_state import current_actor
from schema.guard.extension import THROTTLED
from schema.kit import loaders, metrics
from schema.kit.context import Context
from schema.kit.extensions import SERVER_BUSY_MESSAGE, is_pool_exhausted_exception
from schema.transports.page_policy import content_security_policy
from schema.trusted_documents import gate as trusted_documents

JSON = "application/json"
MULTIPART = "multipart/form-data"
# A multipart POST is a "simple" request a foreign page may send without a CORS preflight: a
# multipart request must carry one of these headers, which no page can add without a preflight.
PREFLIGHT_HEADERS = ("Apollo-Require-Preflight", "GraphQL-Require-Preflight")
# What a multipart request may hold beside its files' bytes (operations, map, boundaries).
MULTIPART_OVERHEAD_BYTES = 64_000
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON. orjson takes a tenth of json's time on large pages; what it refuses
    (integers beyond 64 bits, non-string keys in a JSON scalar) goes through json."""
    try:
        return orjson.dumps(payload, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(payload, separators=(",", ":"), default=str).encode()


def _media_types(accept: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]


def response_media_type(request: HttpRequest) -> str | None:
    """The media type to answer with, or None when the client accepts neither of ours."""
    accepted = _media_types(request.headers.get("Accept", ""))
    if not accepted:
        return JSON
    for media_type in accepted:
        if media_type == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media_type in (JSON, "application/*", "*/*"):
            return JSON
    return None


class GraphQLHTTPView(View):
    http_method_names = ["get", "post", "options"]
    # The GraphQL multipart request spec (file uploads), as Strawberry's own views name it.
    multipart_uploads_enabled = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            response = self._error_response(
                JSON, 405, "GraphQL accepts GET and POST only.", "METHOD_NOT_ALLOWED"
            )
            response["Allow"] = "GET, POST"
            return response
        if request.method == "GET" and self._wants_graphiql(request):
            page = render(request, "graphql/graphiql.html", {"endpoint": request.path})
            page["Content-Security-Policy"] = content_security_policy(request.get_host())
            return page
        media_type = response_media_type(request)
        if media_type is None:
            return self._error_response(
                JSON, 406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.", "NOT_ACCEPTABLE"
            )
        try:
            params = self._params(request)
        except _RequestError as exc:
            return self._error_response(media_type, exc.status, exc.message, exc.code)
        try:
            principal = authenticate(request.headers.get("Authorization"))
            params["query"] = trusted_documents.document_for(params, principal)
        except DatabaseError as exc:
            if not is_pool_exhausted_exception(exc):
                raise
            # Overload, not a bug: every pooled connection is busy (DATABASE_POOL_TIMEOUT_SECONDS).
            response = self._error_response(media_type, 503, SERVER_BUSY_MESSAGE, "SERVER_BUSY")
            response["Retry-After"] = "1"
            return response
        except AuthenticationFailed as exc:
            response = self._error_response(media_type, 401, str(exc), "UNAUTHENTICATED")
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        except trusted_documents.DocumentRefused as exc:
            return self._error_response(media_type, exc.status, exc.message, exc.code)
        context = Context(
            principal=principal,
            request=request,
            correlation_id=getattr(request, "correlation_id", ""),
            client_address=client_address_from(
                request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR")
            ),
        )
        request.user = principal.user or request.user
        # Reset after the request: a thread reused for other work must not act as this caller.
        actor_token = current_actor.set(principal.as_actor())
        try:
            return self._execute(request, media_type, params, context)
        finally:
            current_actor.reset(actor_token)

    @staticmethod
    def _wants_graphiql(request: HttpRequest) -> bool:
        return "query" not in request.GET and "text/html" in _media_types(
            request.headers.get("Accept", "")
        )

    def _params(self, request: HttpRequest) -> dict[str, Any]:
        if request.method == "GET":
            data: dict[str, Any] = {
                key: request.GET.get(key) for key in ("query", "operationName", "documentId")
            }
            for key in ("variables", "extensions"):
                raw = request.GET.get(key)
                data[key] = self._json(raw) if raw else None
        else:
            # Set on every ASGI request (django-stubs types HttpRequest's as maybe None).
            content_type = cast(str, request.content_type).lower()
            if content_type == MULTIPART and self.multipart_uploads_enabled:
                data = self._multipart_params(request)
            elif content_type not in (JSON, GRAPHQL_RESPONSE_JSON):
                raise _RequestError(
                    415, f"Send the request body as {JSON}.", "UNSUPPORTED_MEDIA_TYPE"
                )
            else:
                try:
                    body = request.body
                except RequestDataTooBig as exc:
                    raise _RequestError(
                        413, "The request body is too large.", "REQUEST_TOO_LARGE"
                    ) from exc
                data = self._json(body)
        if not isinstance(data, dict):
            raise _RequestError(
                400, "The request body must be a JSON object (batching is not supported)."
            )
        if not trusted_documents.names_document(data) and (
            not isinstance(data.get("query"), str) or not data["query"].strip()
        ):
            raise _RequestError(400, "`query` must be a non-empty string.")
        for key in ("variables", "extensions"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise _RequestError(400, f"`{key}` must be an object.")
        if data.get("operationName") is not None and not isinstance(data["operationName"], str):
            raise _RequestError(400, "`operationName` must be a string.")
        return data

    def _multipart_params(self, request: HttpRequest) -> dict[str, Any]:
        """`operations` and `map` form fields and the files they name (the multipart spec)."""
        if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
            raise _RequestError(
                400,
                f"A multipart request needs the header {PREFLIGHT_HEADERS[0]}: true "
                "(protection against cross-site requests).",
                "PREFLIGHT_REQUIRED",
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.JOBS_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise _RequestError(413, "The upload is too large.", "REQUEST_TOO_LARGE")
        try:
            form, files = request.POST, request.FILES
        except RequestDataTooBig as exc:
            raise _RequestError(413, "The request body is too large.", "REQUEST_TOO_LARGE") from exc
        except (MultiPartParserError, SuspiciousOperation) as exc:  # a body that is no form
            raise _RequestError(400, "The multipart body cannot be read.") from exc
        operations = self._json(form.get("operations") or "null")
        files_map = self._json(form.get("map") or "null")
        if not isinstance(operations, dict) or not isinstance(files_map, dict):
            raise _RequestError(400, "A multipart request needs `operations` and `map` as JSON.")
        if not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise _RequestError(400, "`map` must name lists of paths.")
        try:
            data = replace_placeholders_with_files(operations, files_map, files)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise _RequestError(400, "`map` names a path that `operations` has not.") from exc
        return data

    @staticmethod
    def _json(raw: str | bytes) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _RequestError(400, "The request is not valid JSON.") from exc
        except RecursionError as exc:  # thousands of nested arrays: malformed input, not a crash
            raise _RequestError(400, "The request's JSON is nested too deeply.") from exc

    def _execute(
        self, request: HttpRequest, media_type: str, params: dict[str, Any], context: Context
    ) -> HttpResponse:
        from schema.root import schema

        loaders_token = loaders.start_request()
        try:
            return self._run(schema, request, media_type, params, context)
        finally:
            loaders.end_request(loaders_token)

    def _run(
        self,
        schema: Any,
        request: HttpRequest,
        media_type: str,
        params: dict[str, Any],
        context: Context,
    ) -> HttpResponse:
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = schema.execute_sync(
                params["query"],
                variable_values=params.get("variables"),
                operation_name=params.get("operationName"),
                context_value=context,
                allowed_operation_types=allowed,
                operation_extensions=params.get("extensions"),
            )
        except InvalidOperationTypeError as exc:
            status = 405 if request.method == "GET" else 400
            response = self._error_response(
                media_type,
                status,
                exc.as_http_error_reason(cast(str, request.method)),  # set on every request
                "METHOD_NOT_ALLOWED" if status == 405 else "BAD_REQUEST",
            )
            if status == 405:
                response["Allow"] = "POST"
            return response
        except (CannotGetOperationTypeError, MissingQueryError) as exc:
            return self._error_response(
                media_type, 400, str(exc) or "Cannot tell which operation to run."
            )
        payload = process_result(result)
        request_error = (
            result.data is None
            and bool(result.errors)
            and all(e.path is None for e in result.errors)
        )
        status = 200
        if request_error:
            payload.pop("data", None)
            if media_type == GRAPHQL_RESPONSE_JSON:
                # Our fault, not the request's (an error escaping execution): 500, not 400.
                server_fault = any(
                    (e.extensions or {}).get("code") == "INTERNAL_SERVER_ERROR"
                    for e in result.errors or []
                )
                status = 500 if server_fault else 400
        throttled = _throttled(result.errors)
        if throttled is not None:
            # Over budget: 429 whatever the media type, and when to come back (RFC 9110).
            response = self._response(media_type, 429, payload)
            retry_after = (throttled.extensions or {}).get("retryAfter")
            if retry_after is not None:
                response["Retry-After"] = str(retry_after)
            return response
        return self._response(media_type, status, payload)

    @staticmethod
    def _response(media_type: str, status: int, payload: Any) -> HttpResponse:
        return HttpResponse(
            encode_json(payload),
            status=status,
            content_type=f"{media_type}; charset=utf-8",
        )

    def _error_response(
        self, media_type: str, status: int, message: str, code: str = "BAD_REQUEST"
    ) -> HttpResponse:
        # Only requests refused before any operation ran come here.
        metrics.GRAPHQL_REQUESTS_REFUSED.labels(code).inc()
        error = GraphQLError(message, extensions={"code": code}).formatted
        return self._response(media_type, status, {"errors": [error]})


def _throttled(errors: list[GraphQLError] | None) -> GraphQLError | None:
    return next((e for e in errors or () if (e.extensions or {}).get("code") == THROTTLED), None)


class _RequestError(Exception):
    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
