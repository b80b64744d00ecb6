"""Notification function: verification codes by SMS, welcome and transport notices by push.

Idempotent on detail.eventId through the processed-events store: an event delivered twice sends
one notice. A verification code is opened only here (KMS in AWS) and is not sent once expired.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..shared.envelope import DeliveredEvent, EventLogger, event_logger
from ..shared.idempotency import once, processed_events_store
from ..shared.sealing import open_sealed
from ..shared.tracing import traced_handler
from .notifier import Notice, notifier_from_environment

FUNCTION = "notification"


@traced_handler(FUNCTION)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    delivered = DeliveredEvent.parse(event)
    log = event_logger(FUNCTION, delivered)
    compose = COMPOSERS.get(delivered.detail_type)
    if compose is None:
        log.warning("No notice for %s; ignored", delivered.detail_type)
        return {"status": "ignored"}
    with once(processed_events_store(), f"{FUNCTION}:{delivered.event_id}") as first:
        if not first:
            log.info("%s already handled; not sent again", delivered.detail_type)
            return {"status": "duplicate"}
        notice = compose(delivered, log)
        if notice is None:
            return {"status": "skipped"}
        notifier_from_environment().send(notice)
    log.info("Sent %s notice by %s", notice.kind, notice.channel)
    return {"status": "sent", "kind": notice.kind}


def verification_code(event: DeliveredEvent, log: EventLogger) -> Notice | None:
    data = event.data
    expires_at = datetime.fromisoformat(str(data["expiresAt"]))
    if expires_at <= datetime.now(UTC):
        log.info("Verification code expired at %s; not sent", data["expiresAt"])
        return None
    code = open_sealed(str(data["sealedCode"]))
    purpose = "sign-up" if data.get("purpose") == "SIGN_UP" else "sign-in"
    return Notice(
        channel="sms",
        to=str(data["phoneNumber"]),
        text=f"Your Majestic {purpose} code is {code}. It expires in 3 minutes; never share it.",
        kind="verification-code",
        event_id=event.event_id,
        secret=True,
    )


def welcome(event: DeliveredEvent, log: EventLogger) -> Notice:
    role = "driver" if event.data.get("userType") == "DRIVER" else "staff member"
    return Notice(
        channel="push",
        to=f"user:{event.data['userUuid']}",
        text=f"Welcome to Majestic! You are signed up as a {role}.",
        kind="welcome",
        event_id=event.event_id,
    )


def transport_started(event: DeliveredEvent, log: EventLogger) -> Notice:
    data = event.data
    return Notice(
        channel="push",
        to=f"center:{data['destinationCenterCode']}",
        text=(
            f"Transport {str(data['transportUuid'])[:8]} left {data['sourceCenterCode']} for "
            f"{data['destinationCenterCode']} with {_items(data)}."
        ),
        kind="transport-started",
        event_id=event.event_id,
    )


def transport_completed(event: DeliveredEvent, log: EventLogger) -> Notice:
    data = event.data
    return Notice(
        channel="push",
        to=f"center:{data['destinationCenterCode']}",
        text=(
            f"Transport {str(data['transportUuid'])[:8]} from {data['sourceCenterCode']} "
            "arrived at "
            f"{data['destinationCenterCode']} with {_items(data)}."
        ),
        kind="transport-completed",
        event_id=event.event_id,
    )


def _items(data: dict[str, Any]) -> str:
    count = len(data.get("trackingNumbers") or [])
    return f"{count} item" + ("" if count == 1 else "s")


COMPOSERS = {
    "VerificationCodeRequested": verification_code,
    "UserSignedUp": welcome,
    "TransportStarted": transport_started,
    "TransportCompleted": transport_completed,
}
