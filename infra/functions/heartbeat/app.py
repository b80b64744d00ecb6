"""Heartbeat function: every five minutes, asks the gateway to run its housekeeping.

The `heartbeat` mutation is safe to retry, so a redelivered tick does no harm.
"""

from __future__ import annotations

import logging
from typing import Any

from ..shared.gateway import Gateway, Operation
from ..shared.tracing import traced_handler

FUNCTION = "heartbeat"
SCOPES = ("HEARTBEAT",)
logger = logging.getLogger("majestic.functions.heartbeat")

HEARTBEAT = Operation(
    "Heartbeat",
    """
mutation Heartbeat {
  heartbeat {
    receivedAt
    tasks { name count }
    errors { field message code }
  }
}
""",
)


@traced_handler(FUNCTION)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A scheduled event has no correlation id of ours: the schedule's event id stands in for it.
    correlation_id = f"heartbeat-{event.get('id', '')}"
    gateway = Gateway(function_name=FUNCTION, scopes=SCOPES, correlation_id=correlation_id)
    payload = gateway.mutate("heartbeat", HEARTBEAT, {})
    tasks = {task["name"]: task["count"] for task in payload.get("tasks") or []}
    logger.info(
        "[correlationId=%s] Heartbeat received at %s: %s",
        correlation_id,
        payload.get("receivedAt"),
        tasks,
        extra={"correlationId": correlation_id},
    )
    return {"status": "ok", "receivedAt": payload.get("receivedAt"), "tasks": tasks}
