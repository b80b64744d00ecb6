"""Who and what the current request is: its correlation id and the actor it runs as.

Below everything: the transports set these once per request (HTTP middleware, websocket
consumer, in-process client), and logs, events and the relay read them. It imports nothing of the
project, so any package may use it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

CORRELATION_HEADER = "X-Correlation-ID"
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")
"""The current request's correlation id; empty outside requests."""

current_actor: ContextVar[dict[str, Any] | None] = ContextVar("current_actor", default=None)
"""Who is acting: {"type": "user", "uuid": ...} or {"type": "apiKey", "name": ...}; None for
system work (heartbeat, relay), which events record as {"type": "system"}."""


def new_correlation_id(candidate: str | None = None) -> str:
    """The caller's id when well formed, else a fresh one (header junk never reaches logs)."""
    if candidate and _VALID_CORRELATION_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex
