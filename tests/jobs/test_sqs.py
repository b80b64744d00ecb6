"""JOBS_BACKEND=sqs against a moto server (AWS emulated at the boto3 boundary only): a started
job's uuid is sent, a worker processes it and deletes the message, and a job that keeps failing
is dead-lettered after the queue's maxReceiveCount."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.jobs import api as jobs_api
from modules.jobs import queue, worker
from modules.jobs.models import BulkJob
from modules.shipping.models import ShippingItem
from tests.events.conftest import aws_client, moto_server  # noqa: F401  (the fixture)
from tests.jobs.helpers import IMPORT

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqs(moto_server, settings) -> Any:  # noqa: F811  (the imported fixture)
    client = aws_client("sqs")
    dead = client.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    url = client.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "300",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    settings.JOBS_BACKEND = "sqs"
    settings.JOBS_SQS_QUEUE_URL = url
    settings.JOBS_RETRY_SECONDS = 0
    queue._sqs_queue.cache_clear()
    yield client, url, dead
    queue._sqs_queue.cache_clear()


def messages_in(client: Any, url: str) -> int:
    attributes = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_started_job_is_sent_by_id_and_a_worker_processes_it(
    sqs, gql, staff, django_capture_on_commit_callbacks
):
    client, url, _dead = sqs
    with django_capture_on_commit_callbacks(execute=True):
        gql(IMPORT, {"items": [{"sku": "Q-1"}, {"sku": "Q-2"}]}, as_=staff)
    job = BulkJob.objects.get()
    assert messages_in(client, url) == 1

    sqs_queue = queue.SqsQueue(url)
    (message,) = sqs_queue.receive(wait_seconds=1)
    assert message.job_uuid == job.uuid  # only the id travels; the rows stay in the database
    worker.work_message(sqs_queue, message, "sqs-worker")

    job.refresh_from_db()
    assert (job.status, job.processed) == ("SUCCEEDED", 2)
    assert sorted(ShippingItem.objects.values_list("sku", flat=True)) == ["Q-1", "Q-2"]
    assert messages_in(client, url) == 0


def test_a_job_that_keeps_failing_is_dead_lettered(sqs, django_capture_on_commit_callbacks):
    client, url, dead = sqs

    def broken(row: dict[str, Any], options: dict[str, Any]) -> None:
        raise RuntimeError("a bug in the kind")

    jobs_api.register_kind(jobs_api.JobKind("test.broken", broken))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            started = jobs_api.start_job(kind="test.broken", rows=[{"n": 1}])
        sqs_queue = queue.SqsQueue(url)
        for _attempt in range(3):
            for message in sqs_queue.receive(wait_seconds=1):
                worker.work_message(sqs_queue, message, "sqs-worker")
    finally:
        jobs_api.unregister_kind("test.broken")

    assert messages_in(client, url) == 0
    dead_letters = client.receive_message(QueueUrl=dead, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in dead_letters] == [str(started.uuid)]
    job = BulkJob.objects.get()
    # Nothing of the failed chunk stayed; the job waits for a redrive (or a person).
    assert (job.processed, job.attempts, job.lease_owner) == (0, 2, "")


def test_a_message_naming_no_job_is_dropped(sqs):
    client, url, _dead = sqs
    client.send_message(QueueUrl=url, MessageBody="not-a-uuid")
    sqs_queue = queue.SqsQueue(url)
    for message in sqs_queue.receive(wait_seconds=1):
        worker.work_message(sqs_queue, message, "sqs-worker")
    assert messages_in(client, url) == 0


def test_requeue_sends_again_the_jobs_nobody_holds(sqs):
    from django.core.management import call_command

    from modules.jobs import services

    client, url, _dead = sqs
    lost = jobs_api.start_job(kind="shipping.importItems", rows=[{"sku": "L-1"}])  # no commit hook
    held = jobs_api.start_job(kind="shipping.importItems", rows=[{"sku": "H-1"}])
    services.job_claim(worker="elsewhere", job_uuid=held.uuid)
    assert messages_in(client, url) == 0
    call_command("work_jobs", "--requeue")
    bodies = [m.job_uuid for m in queue.SqsQueue(url).receive(wait_seconds=1)]
    assert bodies == [lost.uuid]
