"""Correlation ids: one per request, echoed in the response, carried into logs and events."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")


def new_correlation_id(candidate: str | None = None) -> str:
    """The caller's id when well formed, else a fresh one (header junk never reaches logs)."""
    if candidate and _VALID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = new_correlation_id(request.headers.get(HEADER))
        token = correlation_id.set(value)
        request.correlation_id = value
        try:
            response = self.get_response(request)
        finally:
            correlation_id.reset(token)
        response[HEADER] = value
        return response


class CorrelationIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True
