"""Where notices go: SNS in AWS (SMS to phone numbers, push notices through the notices topic);
locally the console and a JSON-lines file (NOTIFICATIONS_FILE), one object per notice with
channel, to, text, kind, eventId and sentAt, so tests and people can read what was sent."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..shared.runtime import setting

logger = logging.getLogger("majestic.functions.notification")


@dataclass(frozen=True)
class Notice:
    channel: str  # "sms" (to: an E.164 number) or "push" (to: "user:<uuid>" or "center:<code>")
    to: str
    text: str
    kind: str  # what it is about, e.g. "verification-code", "welcome", "transport-started"
    event_id: str
    secret: bool = False  # the text holds a secret (a code): never echoed to logs unless allowed


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


class FileNotifier:
    _lock = threading.Lock()

    def __init__(self, path: str = "", *, echo_secrets: bool = False) -> None:
        self.path = path
        self.echo_secrets = echo_secrets

    def send(self, notice: Notice) -> None:
        text = notice.text if (self.echo_secrets or not notice.secret) else "(hidden: holds a code)"
        logger.info("Notice (%s) to %s: %s", notice.channel, _masked(notice.to), text)
        if not self.path:
            return
        line = json.dumps(
            {
                "channel": notice.channel,
                "to": notice.to,
                "text": notice.text,
                "kind": notice.kind,
                "eventId": notice.event_id,
                "sentAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            },
            ensure_ascii=False,
        )
        with self._lock, open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


class SnsNotifier:
    def __init__(self, *, topic_arn: str, client: Any = None) -> None:
        if client is None:
            import boto3  # in the Lambda runtime

            client = boto3.client("sns")
        self.client = client
        self.topic_arn = topic_arn

    def send(self, notice: Notice) -> None:
        if notice.channel == "sms":
            self.client.publish(
                PhoneNumber=notice.to,
                Message=notice.text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        elif notice.channel == "push":
            audience, _, address = notice.to.partition(":")
            attribute = "userUuid" if audience == "user" else "centerCode"
            self.client.publish(
                TopicArn=self.topic_arn,
                Message=notice.text,
                MessageAttributes={
                    "audience": {"DataType": "String", "StringValue": audience},
                    attribute: {"DataType": "String", "StringValue": address},
                    "kind": {"DataType": "String", "StringValue": notice.kind},
                },
            )
        else:
            raise ValueError(f"Unknown channel {notice.channel!r}")
        logger.info("Notice (%s, %s) published", notice.channel, notice.kind)


def _masked(address: str) -> str:
    """Phone numbers shortened in logs: +1555****0001."""
    if address.startswith("+") and len(address) > 8:
        return address[:5] + "****" + address[-4:]
    return address


def notifier_from_environment() -> Notifier:
    if os.environ.get("NOTIFIER") == "sns":
        return SnsNotifier(topic_arn=os.environ.get("NOTICES_TOPIC_ARN", ""))
    echo = setting("AUTH_PRINT_VERIFICATION_CODES").lower() in ("1", "true", "yes", "on")
    return FileNotifier(setting("NOTIFICATIONS_FILE"), echo_secrets=echo)
