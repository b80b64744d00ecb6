"""Where a started job goes: `JOBS_BACKEND=local` (workers find it in the database; the server's
own worker thread is nudged at once) or `sqs` (its uuid is sent to JOBS_SQS_QUEUE_URL, which
`manage.py work_jobs` long-polls). The message never carries rows: they stay in the job's row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger("majestic.jobs")


@dataclass(frozen=True)
class Message:
    job_uuid: uuid.UUID | None  # None: a body that names no job (dropped)
    receipt: str


class JobQueue(Protocol):
    def send(self, job_uuid: uuid.UUID) -> None: ...


# What wakes this process's workers on `local` (the in-process worker adds its own at start).
_local_wakers: list[Callable[[], None]] = []


def on_local_send(wake: Callable[[], None]) -> None:
    if wake not in _local_wakers:
        _local_wakers.append(wake)


class LocalQueue:
    """No broker: the database is the queue. Wakes this process's worker thread, if it runs."""

    def send(self, job_uuid: uuid.UUID) -> None:
        for wake in list(_local_wakers):
            wake()


class SqsQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("sqs")
        return self._client

    def send(self, job_uuid: uuid.UUID) -> None:
        # After commit: a failed send leaves the job QUEUED in the database, where
        # `manage.py work_jobs --requeue` sends it again; the request has its job either way.
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=str(job_uuid))
        except Exception:
            logger.exception("Could not send job %s to SQS", job_uuid)

    def receive(self, wait_seconds: int) -> list[Message]:
        answer = self.client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_seconds
        )
        messages = []
        for raw in answer.get("Messages", []):
            try:
                job_uuid: uuid.UUID | None = uuid.UUID(raw["Body"].strip())
            except ValueError:
                job_uuid = None
            messages.append(Message(job_uuid=job_uuid, receipt=raw["ReceiptHandle"]))
        return messages

    def delete(self, message: Message) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt)

    def hide(self, message: Message, seconds: int) -> None:
        """Keep the message from other workers for `seconds` more (0: hand it back now)."""
        self.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message.receipt, VisibilityTimeout=seconds
        )


@cache
def _sqs_queue(queue_url: str) -> SqsQueue:
    return SqsQueue(queue_url)


def job_queue() -> LocalQueue | SqsQueue:
    if settings.JOBS_BACKEND == "sqs":
        return _sqs_queue(settings.JOBS_SQS_QUEUE_URL)
    return LocalQueue()
