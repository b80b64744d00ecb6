"""GraphQL documents and look-ups shared by the jobs tests."""

from __future__ import annotations

from typing import Any

JOB_FIELDS = """
  id uuid kind status total processed failed cancelRequested progress
  createdAt startedAt finishedAt
  createdBy { ... on User { uuid } }
  rowErrors(first: 100) { totalCount edges { node { rowNumber code message } } }
"""

IMPORT = (
    "mutation($items: [CreateShippingItemInput!]!) { importShippingItems(input: {items: $items}) "
    "{ bulkJob { " + JOB_FIELDS + " } errors { field code message } } }"
)
ADD_TO_BATCHES = (
    "mutation($items: [BatchItemInput!]!) { addItemsToBatches(input: {items: $items}) "
    "{ bulkJob { id status total } errors { field code message } } }"
)
COMPLETE = (
    "mutation($uuids: [UUID!]!) { completeTransports(input: {transportUuids: $uuids}) "
    "{ bulkJob { id status total } errors { field code message } } }"
)
JOB = "query($id: ID!) { bulkJob(id: $id) { " + JOB_FIELDS + " } }"
JOBS = (
    "query($filter: BulkJobFilter) { bulkJobs(filter: $filter, first: 50) "
    "{ totalCount edges { node { id kind status } } } }"
)
CANCEL = (
    "mutation($id: ID!) { cancelBulkJob(id: $id) { bulkJob { status cancelRequested } "
    "errors { code } } }"
)
CREATED = (
    "query($id: ID!) { bulkJob(id: $id) { createdObjects(first: 100) { totalCount "
    "edges { node { ... on ShippingItem { sku trackingNumber status } } } } } }"
)


def row_errors(job: dict[str, Any]) -> list[tuple[int, str]]:
    return [(e["node"]["rowNumber"], e["node"]["code"]) for e in job["rowErrors"]["edges"]]
