"""What other modules use of jobs: the registry of job kinds, and starting a job.

A module that offers bulk work registers its kinds (`register_kind`, from its AppConfig.ready)
and starts jobs with `start_job`; jobs imports no other module, so the dependency points from
the module with the rows to jobs. A kind's `apply_row` does one row exactly as the single mutation
would (it calls the same service) and raises that service's `ValidationError` for a bad row; jobs
runs it inside the chunk's transaction, in a savepoint of its own, as the job's creator.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modules.jobs import services
from modules.jobs.kinds import (
    JobKind,
    RowHandler,
    RowResult,
    kind_named,
    register_kind,
    unregister_kind,
)

__all__ = [
    "JobKind",
    "JobStarted",
    "RowHandler",
    "RowResult",
    "kind_named",
    "max_rows_per_job",
    "register_kind",
    "start_job",
    "unregister_kind",
]


@dataclass(frozen=True)
class JobStarted:
    uuid: uuid.UUID
    kind: str
    total: int


def max_rows_per_job() -> int:
    return services.max_rows()


def start_job(
    *,
    kind: str,
    rows: Sequence[dict[str, Any]],
    options: dict[str, Any] | None = None,
    field: str = "items",
) -> JobStarted:
    """Queue a job of `kind` over `rows` (1..JOBS_MAX_ROWS JSON objects), owned by the current
    actor; it is handed to the queue after the caller's transaction commits. A request that is
    wrong as a whole raises `ValidationError` keyed by `field` (NO_ROWS, TOO_MANY_ROWS): then
    nothing is queued."""
    if kind_named(kind) is None:
        raise ValueError(f"No job kind {kind!r} is registered")  # a bug, not the caller's input
    job = services.job_create(kind=kind, rows=rows, options=options or {}, field=field)
    return JobStarted(uuid=job.uuid, kind=job.kind, total=job.total)
