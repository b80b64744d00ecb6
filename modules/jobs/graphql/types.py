"""jobs' GraphQL types: `BulkJob` (a Relay node), its row errors and what its rows created.

Access: staff see every job, anybody else the jobs they started (`get_queryset`, so lists,
`bulkJob(id:)` and `node(id:)` agree). Jobs knows no other module: what a row created and who
started the job are Relay nodes named by type name and key, resolved through the schema's own
`Node` types (so their access rules apply to them as well).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
import strawberry_django
from django.db.models import QuerySet
from graphql import GraphQLError
from strawberry import relay

from modules.jobs import models as m
from modules.jobs import selectors
from schema.kit.context import Info
from schema.kit.enums import graphql_enum

if TYPE_CHECKING:
    from enum import StrEnum

    BulkJobStatus = StrEnum
else:
    BulkJobStatus = graphql_enum(
        m.BulkJobStatus, name="BulkJobStatus", description="Where a bulk job is in its life."
    )

# The type that names a job's creator (the user module's node, by its public uuid).
CREATOR_TYPE_NAME = "User"


@strawberry.type(description="A row of a bulk job that failed, and why.")
class BulkJobRowError:
    row_number: int = strawberry.field(description="The row's number, counting from 1.")
    code: str = strawberry.field(
        description="The error code the row's single mutation would give (e.g. INVALID_SKU)."
    )
    message: str = strawberry.field(description="What was wrong, for a person.")


@strawberry.type(description="A row error and where it is in the list.")
class BulkJobRowErrorEdge:
    cursor: str = strawberry.field(description="Where this row error is, for `after`.")
    node: BulkJobRowError = strawberry.field(description="The row error.")


@strawberry.type(description="A page of a job's row errors, in row order.")
class BulkJobRowErrorConnection:
    edges: list[BulkJobRowErrorEdge] = strawberry.field(description="The row errors of the page.")
    page_info: relay.PageInfo = strawberry.field(description="Where the page is in the list.")
    total_count: int = strawberry.field(description="Row errors in all pages.")


@strawberry.type(description="An object a job's row created, and where it is in the list.")
class BulkJobCreatedEdge:
    cursor: str = strawberry.field(description="Where this object is, for `after`.")
    node: relay.Node = strawberry.field(description="The object (e.g. a ShippingItem).")


@strawberry.type(description="A page of what a job's rows created, in row order.")
class BulkJobCreatedConnection:
    edges: list[BulkJobCreatedEdge] = strawberry.field(description="The objects of the page.")
    page_info: relay.PageInfo = strawberry.field(description="Where the page is in the list.")
    total_count: int = strawberry.field(description="Created objects in all pages.")


PAGE_MAX = 100
_CURSOR_PREFIX = "bulkjob-row"


def _page(
    rows: QuerySet, first: int | None, after: str | None
) -> tuple[list[tuple[str, Any]], relay.PageInfo, int]:
    """An offset page of `rows` (at most PAGE_MAX), its cursors, page info and total count."""
    size = PAGE_MAX if first is None else first
    if not 0 <= size <= PAGE_MAX:
        raise GraphQLError(
            f"`first` must be between 0 and {PAGE_MAX}.", extensions={"code": "BAD_USER_INPUT"}
        )
    start = 0
    if after is not None:
        try:
            prefix, offset = relay.from_base64(after)
            start = int(offset) + 1
            if prefix != _CURSOR_PREFIX or start < 1:
                raise ValueError(after)
        except ValueError:
            raise GraphQLError(
                "`after` is no cursor of this list.", extensions={"code": "BAD_USER_INPUT"}
            ) from None
    total = rows.count()
    page = list(rows[start : start + size])
    cursors = [relay.to_base64(_CURSOR_PREFIX, start + i) for i in range(len(page))]
    info = relay.PageInfo(
        has_next_page=start + len(page) < total,
        has_previous_page=start > 0,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return list(zip(cursors, page, strict=True)), info, total


def resolve_nodes(info: Any, references: list[tuple[str, str]]) -> list[Any]:
    """The nodes named (type name, key), in order, one lookup per type; None where none is."""
    keys_by_type: dict[str, list[str]] = defaultdict(list)
    for type_name, key in references:
        keys_by_type[type_name].append(key)
    found: dict[tuple[str, str], Any] = {}
    for type_name, keys in keys_by_type.items():
        node_type = relay.GlobalID(type_name, keys[0]).resolve_type(info)
        nodes = node_type.resolve_nodes(info=info, node_ids=keys, required=False)
        # strawberry-django resolves nodes synchronously in a sync execution (as every query is).
        for key, node in zip(keys, cast(Iterable[Any], nodes), strict=True):
            found[(type_name, key)] = node
    return [found.get(reference) for reference in references]


def _row_to_error(row: m.BulkJobRowError) -> BulkJobRowError:
    return BulkJobRowError(row_number=row.row_number, code=row.code, message=row.message)


@strawberry_django.type(
    m.BulkJob,
    name="BulkJob",
    description="Bulk work done off the request, in chunks, by a worker; watch it with "
    "bulkJobUpdates.",
)
class BulkJob(relay.Node):
    _id_attr = "uuid"

    uuid: strawberry.auto = strawberry_django.field(description="The job's public key.")
    kind: str = strawberry_django.field(description="What the job does, e.g. shipping.importItems.")
    status: BulkJobStatus = strawberry_django.field(description="Where the job is in its life.")
    total: int = strawberry_django.field(description="Rows in the job.")
    processed: int = strawberry_django.field(
        description="Rows done so far (applied or failed), in committed chunks."
    )
    failed: int = strawberry_django.field(description="Rows that failed so far.")
    cancel_requested: bool = strawberry_django.field(
        description="Someone asked to cancel it; a running job stops after its current chunk."
    )
    created_at: strawberry.auto = strawberry_django.field(description="When it was started.")
    started_at: strawberry.auto = strawberry_django.field(
        description="When a worker first took it."
    )
    finished_at: strawberry.auto = strawberry_django.field(
        description="When it ended (succeeded, partially failed, failed or was cancelled)."
    )

    @strawberry_django.field(
        only=["total", "processed"],
        description="processed / total, from 0 to 1 (for a progress bar).",
    )
    def progress(self: Any) -> float:
        return self.processed / self.total if self.total else 1.0

    @strawberry_django.field(
        only=["created_by_uuid"],
        description="The user who started it (null for a machine client, or a user you may not "
        "see).",
    )
    def created_by(self: Any, info: Info) -> relay.Node | None:
        if self.created_by_uuid is None:
            return None
        (node,) = resolve_nodes(info, [(CREATOR_TYPE_NAME, str(self.created_by_uuid))])
        return node  # type: ignore[no-any-return]  # a Node of the user module's face

    @strawberry.field(description="The rows that failed, in row order.")
    def row_errors(
        self: Any,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description=f"At most this many (≤ {PAGE_MAX}).")
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="After this cursor.")] = None,
    ) -> BulkJobRowErrorConnection:
        edges, page_info, total = _page(selectors.job_row_errors(self), first, after)
        return BulkJobRowErrorConnection(
            edges=[BulkJobRowErrorEdge(cursor=c, node=_row_to_error(row)) for c, row in edges],
            page_info=page_info,
            total_count=total,
        )

    @strawberry.field(
        description="What the job's rows created (an import's shipping items), in row order. "
        "An object since deleted, or one the viewer may not see, is left out of its page; "
        "totalCount counts every row that created one."
    )
    def created_objects(
        self: Any,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description=f"At most this many (≤ {PAGE_MAX}).")
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="After this cursor.")] = None,
    ) -> BulkJobCreatedConnection:
        edges, page_info, total = _page(selectors.job_results(self), first, after)
        nodes = resolve_nodes(info, [(row.type_name, row.key) for _c, row in edges])
        return BulkJobCreatedConnection(
            # An object the viewer may not see (or one since deleted) is left out of the page.
            edges=[
                BulkJobCreatedEdge(cursor=cursor, node=node)
                for (cursor, _row), node in zip(edges, nodes, strict=True)
                if node is not None
            ],
            page_info=page_info,
            total_count=total,
        )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        principal = info.context.principal
        return selectors.jobs_visible(
            queryset.defer("payload"), is_staff=principal.is_staff, user_uuid=principal.user_uuid
        )


def bulk_job_row(job_uuid: uuid.UUID) -> m.BulkJob | None:
    """The job a module just started, for its mutation's payload (`bulkJob`)."""
    return selectors.job_progress(job_uuid)
