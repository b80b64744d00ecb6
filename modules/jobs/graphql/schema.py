"""jobs' root fields: one job, the list of jobs, and cancelling one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from strawberry import relay
from strawberry_django.relay import DjangoCursorConnection

from modules.jobs import errors, filters, services
from modules.jobs import models as m
from modules.jobs.graphql.types import BulkJob, BulkJobStatus
from schema.kit.context import Info
from schema.kit.cursors import bind_cursors
from schema.kit.enums import graphql_enum
from schema.kit.errors import mutate
from schema.kit.filters import apply_filters, filter_input, order_input
from schema.kit.permissions import Require, SignedIn

if TYPE_CHECKING:
    from enum import StrEnum

    JobsErrorCode = StrEnum
    BulkJobFilter = Any
    BulkJobOrder = Any
else:
    JobsErrorCode = graphql_enum(
        errors.JobsErrorCode,
        description="Why a jobs mutation was refused.",
        value_descriptions={
            "JOB_NOT_FOUND": "No job with that id that the caller may see.",
            "JOB_FINISHED": "The job has ended already: there is nothing to cancel.",
            "NO_ROWS": "The job was given no rows.",
            "TOO_MANY_ROWS": "More rows than one job takes (JOBS_MAX_ROWS).",
            "UNKNOWN_KIND": "No module registered a job of that kind.",
        },
    )
    BulkJobFilter = filter_input(
        filters.BulkJobFilterSet, "BulkJobFilter", types={"status": BulkJobStatus}
    )
    BulkJobOrder = order_input(filters.BulkJobFilterSet, "BulkJobOrder")


@strawberry.type(description="Why a jobs mutation was refused.")
class JobsError:
    field: str | None = strawberry.field(description="The argument at fault, if one is.")
    message: str = strawberry.field(description="What was wrong, for a person.")
    code: JobsErrorCode = strawberry.field(description="What was wrong, for a program.")


@strawberry.type(description="The job a jobs mutation changed, or why it was refused.")
class BulkJobPayload:
    bulk_job: BulkJob | None = strawberry.field(default=None, description="The job.")
    errors: list[JobsError] = strawberry.field(
        default_factory=list, description="Why it was refused (empty on success)."
    )


def job_uuid_of(global_id: relay.GlobalID) -> Any:
    """The uuid a BulkJob global id names; None for another type's id or a malformed key."""
    if global_id.type_name != "BulkJob":
        return None
    try:
        import uuid

        return uuid.UUID(global_id.node_id)
    except ValueError:
        return None


@strawberry.type
class Query:
    @strawberry_django.field(
        extensions=[Require(SignedIn)],
        description="A bulk job by its id: staff see every job, anybody else their own.",
    )
    def bulk_job(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The job's Relay id.")],
    ) -> BulkJob | None:
        job_uuid = job_uuid_of(id)
        if job_uuid is None:
            return None
        return m.BulkJob.objects.filter(uuid=job_uuid)  # type: ignore[return-value]  # strawberry-django gets the row

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[BulkJob],
        extensions=[Require(SignedIn)],
        description="Bulk jobs, newest first: staff see every job, anybody else their own.",
    )
    def bulk_jobs(
        self,
        info: Info,
        filter: Annotated[
            BulkJobFilter | None, strawberry.argument(description="Which jobs.")
        ] = None,
        sort: Annotated[
            BulkJobOrder | None, strawberry.argument(name="order", description="Their order.")
        ] = None,
    ) -> QuerySet[m.BulkJob]:
        return apply_filters(m.BulkJob.objects.all(), filters.BulkJobFilterSet, filter, sort)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Require(SignedIn)],
        description="Cancel a job: a queued one at once, a running one after its current chunk "
        "(what committed chunks did stays). Staff may cancel any job, anybody else their own.",
    )
    def cancel_bulk_job(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The job's Relay id.")],
    ) -> BulkJobPayload:
        principal = info.context.principal

        def cancel() -> Any:
            job_uuid = job_uuid_of(id)
            if job_uuid is None:
                raise ValidationError(
                    {"id": ValidationError("No such job.", code=errors.JobsErrorCode.JOB_NOT_FOUND)}
                )
            return services.job_cancel(
                job_uuid=job_uuid, is_staff=principal.is_staff, user_uuid=principal.user_uuid
            )

        return mutate(BulkJobPayload, cancel)
