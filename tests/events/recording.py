"""Handlers for the recording template: they keep what the local bus hands them."""

from __future__ import annotations

import threading
from typing import Any

RECEIVED: list[dict[str, Any]] = []
_lock = threading.Lock()
flaky_failures_left = 0


def reset() -> None:
    global flaky_failures_left
    with _lock:
        RECEIVED.clear()
        flaky_failures_left = 0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with _lock:
        RECEIVED.append({"event": event, "function": context.function_name})
    return {"status": "recorded"}


def flaky_handler(event: dict[str, Any], context: Any) -> None:
    """Fails while `flaky_failures_left` says so (a target that is down for a while)."""
    global flaky_failures_left
    with _lock:
        if flaky_failures_left > 0:
            flaky_failures_left -= 1
            raise ConnectionError("the downstream service is away")
