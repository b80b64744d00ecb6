"""Correlation ids: one per request, echoed in the response, carried into logs and events."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from request_state import CORRELATION_HEADER, correlation_id, new_correlation_id


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = new_correlation_id(request.headers.get(CORRELATION_HEADER))
        token = correlation_id.set(value)
        request.correlation_id = value  # type: ignore[attr-defined]  # read by the GraphQL view
        try:
            response = self.get_response(request)
        finally:
            correlation_id.reset(token)
        response[CORRELATION_HEADER] = value
        return response


class CorrelationIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True
