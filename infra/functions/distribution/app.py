"""Distribution function: moves items between center inventories as transports start and complete.

TransportStarted -> recordDeparture at the source center; TransportCompleted -> recordArrival at
the destination. Both mutations are idempotent on (transport, center), so a redelivered event
changes nothing twice; a refusal fails the invocation, so EventBridge retries, then dead-letters.
"""

from __future__ import annotations

from typing import Any

from ..shared.envelope import DeliveredEvent, event_logger
from ..shared.gateway import Gateway, Operation
from ..shared.tracing import traced_handler

FUNCTION = "distribution"
SCOPES = ("DISTRIBUTION",)


def _movement_mutation(field: str) -> Operation:
    name = field[0].upper() + field[1:]
    return Operation(
        name,
        f"""
mutation {name}($transportUuid: UUID!, $centerCode: String!, $trackingNumbers: [String!]!) {{
  {field}(
    transportUuid: $transportUuid, centerCode: $centerCode, trackingNumbers: $trackingNumbers
  ) {{
    errors {{ field message code }}
  }}
}}
""",
    )


RECORD_DEPARTURE = _movement_mutation("recordDeparture")
RECORD_ARRIVAL = _movement_mutation("recordArrival")

# detail type -> (mutation field, its document, the data key naming the center)
MOVEMENTS = {
    "TransportStarted": ("recordDeparture", RECORD_DEPARTURE, "sourceCenterCode"),
    "TransportCompleted": ("recordArrival", RECORD_ARRIVAL, "destinationCenterCode"),
}


@traced_handler(FUNCTION)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    delivered = DeliveredEvent.parse(event)
    log = event_logger(FUNCTION, delivered)
    movement = MOVEMENTS.get(delivered.detail_type)
    if movement is None:
        log.warning("Not a transport movement (%s); ignored", delivered.detail_type)
        return {"status": "ignored"}
    field, document, center_key = movement
    data = delivered.data
    variables = {
        "transportUuid": data["transportUuid"],
        "centerCode": data[center_key],
        "trackingNumbers": list(data["trackingNumbers"]),
    }
    gateway = Gateway(
        function_name=FUNCTION, scopes=SCOPES, correlation_id=delivered.correlation_id
    )
    gateway.mutate(field, document, variables)
    log.info(
        "%s: %d items at %s for transport %s",
        field,
        len(variables["trackingNumbers"]),
        variables["centerCode"],
        variables["transportUuid"],
    )
    return {"status": "recorded", "mutation": field}
