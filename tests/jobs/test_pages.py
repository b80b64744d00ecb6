"""A job's row errors and created objects page like every list (at most 100 a page, cursors),
and a job is a Relay node."""

from __future__ import annotations

import pytest

from modules.jobs import services
from modules.jobs.models import BulkJob
from tests.jobs.conftest import run_jobs

pytestmark = pytest.mark.django_db

PAGE = """
query($id: ID!, $first: Int, $after: String) { bulkJob(id: $id) {
  rowErrors(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { rowNumber } }
  }
  createdObjects(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
} }
"""


@pytest.fixture
def job_id(staff):
    from request_state import current_actor

    token = current_actor.set({"type": "user", "uuid": str(staff.uuid)})
    try:
        services.job_create(
            kind="shipping.importItems",
            rows=[{"sku": "bad sku" if n % 2 else f"OK-{n}"} for n in range(205)],
            options={},
        )
    finally:
        current_actor.reset(token)
    run_jobs()
    from strawberry import relay

    return str(relay.GlobalID("BulkJob", str(BulkJob.objects.get().uuid)))


def test_row_errors_page_in_row_order_up_to_100_a_page(gql, staff, job_id):
    first = gql(PAGE, {"id": job_id, "first": 100}, as_=staff)["data"]["bulkJob"]["rowErrors"]
    assert first["totalCount"] == 102
    assert [e["node"]["rowNumber"] for e in first["edges"]] == list(range(2, 202, 2))
    assert first["pageInfo"]["hasNextPage"] is True
    rest = gql(
        PAGE, {"id": job_id, "first": 100, "after": first["pageInfo"]["endCursor"]}, as_=staff
    )["data"]["bulkJob"]["rowErrors"]
    assert [e["node"]["rowNumber"] for e in rest["edges"]] == [202, 204]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_created_objects_are_the_imported_items_as_nodes(gql, staff, job_id):
    page = gql(PAGE, {"id": job_id, "first": 5}, as_=staff)["data"]["bulkJob"]["createdObjects"]
    assert page["totalCount"] == 103
    item_id = page["edges"][0]["node"]["id"]
    found = gql(
        "query($id: ID!) { node(id: $id) { ... on ShippingItem { sku } } }",
        {"id": item_id},
        as_=staff,
    )
    assert found["data"]["node"] == {"sku": "OK-0"}


def test_more_than_100_a_page_is_refused(gql, staff, job_id):
    result = gql(PAGE, {"id": job_id, "first": 101}, as_=staff, expect_errors=True)
    assert "BAD_USER_INPUT" in result.error_codes
    assert gql(PAGE, {"id": job_id, "first": 100}, as_=staff)["data"]["bulkJob"]


def test_a_cursor_of_another_list_is_refused(gql, staff, job_id):
    result = gql(PAGE, {"id": job_id, "after": "bm90LWEtY3Vyc29y"}, as_=staff, expect_errors=True)
    assert "BAD_USER_INPUT" in result.error_codes


def test_staff_reach_a_job_as_a_node(gql, staff, job_id):
    found = gql(
        "query($id: ID!) { node(id: $id) { ... on BulkJob { total status } } }",
        {"id": job_id},
        as_=staff,
    )
    assert found["data"]["node"] == {"total": 205, "status": "PARTIALLY_FAILED"}
