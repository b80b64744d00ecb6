"""`bulkJobUpdates(id)`: the job while it runs (at least every second) and once at its end.

It reads the job's row (counters only) every JOBS_UPDATES_SECONDS, so it works whichever process
or machine runs the job; it pushes when the job changed, or a second has passed since the last
push, and ends after pushing the finished job.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError
from strawberry import relay

from modules.jobs import selectors
from modules.jobs.graphql.schema import job_uuid_of
from modules.jobs.graphql.types import BulkJob
from modules.jobs.models import BulkJob as BulkJobModel
from schema.kit.context import Info
from schema.kit.permissions import Require, SignedIn

# Longest quiet spell while the job runs: a push at least this often even when nothing changed.
HEARTBEAT_SECONDS = 1.0


def _visible_job(principal: Any, job_uuid: uuid.UUID) -> BulkJobModel | None:
    return (
        selectors.jobs_visible(is_staff=principal.is_staff, user_uuid=principal.user_uuid)
        .defer("payload")
        .filter(uuid=job_uuid)
        .first()
    )


def _state(job: BulkJobModel) -> tuple[Any, ...]:
    return (job.status, job.processed, job.failed, job.cancel_requested)


async def job_update_stream(info: Info, job: BulkJobModel) -> AsyncGenerator[BulkJobModel, None]:
    principal = info.context.principal
    interval = min(settings.JOBS_UPDATES_SECONDS, HEARTBEAT_SECONDS)
    yield job
    last_state, last_push = _state(job), time.monotonic()
    while not job.finished:
        await asyncio.sleep(interval)
        fresh = await database_sync_to_async(_visible_job)(principal, job.uuid)
        if fresh is None:
            raise GraphQLError("No such job.", extensions={"code": "NOT_FOUND"})
        job = fresh
        # Push now when it changed, or when waiting for the next look would leave over a second.
        due = time.monotonic() - last_push + interval >= HEARTBEAT_SECONDS
        if _state(job) != last_state or due:
            yield job
            last_state, last_push = _state(job), time.monotonic()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=[Require(SignedIn)],
        description="The job now, then whenever it changes and at least every second while it "
        "runs, and once at its end (then the subscription completes). Staff may watch any job, "
        "anybody else their own.",
    )
    async def bulk_job_updates(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The job's Relay id.")],
    ) -> AsyncGenerator[BulkJob, None]:
        job_uuid = job_uuid_of(id)
        job = (
            await database_sync_to_async(_visible_job)(info.context.principal, job_uuid)
            if job_uuid is not None
            else None
        )
        if job is None:
            # Same answer for "absent" and "not yours".
            raise GraphQLError("No such job.", extensions={"code": "NOT_FOUND"})
        return job_update_stream(info, job)  # type: ignore[return-value]  # rows, resolved as BulkJob
