"""Who may start, see and cancel jobs; cancelling a queued and a running job."""

from __future__ import annotations

from typing import Any

import pytest

from modules.jobs import api as jobs_api
from modules.jobs import services
from modules.jobs.models import BulkJob
from modules.shipping.models import ShippingItem
from tests.jobs.conftest import run_jobs
from tests.jobs.helpers import ADD_TO_BATCHES, CANCEL, COMPLETE, IMPORT, JOB, JOBS

pytestmark = pytest.mark.django_db


def start_import(gql, user, count=2) -> dict[str, Any]:
    result = gql(IMPORT, {"items": [{"sku": f"S{n}"} for n in range(count)]}, as_=user)
    return result["data"]["importShippingItems"]["bulkJob"]


@pytest.mark.parametrize("who", ["anonymous", "driver", "non_staff"])
def test_only_staff_may_import_items_or_fill_batches(gql, who, driver, non_staff):
    caller = {"anonymous": None, "driver": driver, "non_staff": non_staff}[who]
    expected = "UNAUTHENTICATED" if caller is None else "FORBIDDEN"
    for document, variables, field in (
        (IMPORT, {"items": [{"sku": "S"}]}, "importShippingItems"),
        (ADD_TO_BATCHES, {"items": [{"alias": "A", "trackingNumber": "T"}]}, "addItemsToBatches"),
    ):
        payload = gql(document, variables, as_=caller)["data"][field]
        assert payload["bulkJob"] is None
        assert [e["code"] for e in payload["errors"]] == [expected]
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "non_staff"])
def test_only_staff_or_drivers_may_complete_transports(gql, who, non_staff):
    caller = None if who == "anonymous" else non_staff
    payload = gql(COMPLETE, {"uuids": [str(BulkJob().uuid)]}, as_=caller)["data"]
    assert [e["code"] for e in payload["completeTransports"]["errors"]] == [
        "UNAUTHENTICATED" if caller is None else "FORBIDDEN"
    ]


def test_a_user_sees_only_their_own_jobs_and_staff_see_all(gql, staff, other_staff, driver):
    mine = start_import(gql, staff)
    theirs = start_import(gql, other_staff)
    # other_staff is staff: sees both; a driver (not staff) sees neither of them.
    listed = gql(JOBS, as_=other_staff)["data"]["bulkJobs"]
    assert {e["node"]["id"] for e in listed["edges"]} == {mine["id"], theirs["id"]}
    assert gql(JOBS, as_=driver)["data"]["bulkJobs"]["totalCount"] == 0
    assert gql(JOB, {"id": mine["id"]}, as_=driver)["data"]["bulkJob"] is None
    node = gql("query($id: ID!) { node(id: $id) { id } }", {"id": mine["id"]}, as_=driver)
    assert node["data"]["node"] is None


def test_a_non_staff_user_sees_the_jobs_they_started(gql, staff, driver, centers):
    started = gql(COMPLETE, {"uuids": [str(BulkJob().uuid)]}, as_=driver)["data"]
    job = started["completeTransports"]["bulkJob"]
    start_import(gql, staff)
    listed = gql(JOBS, as_=driver)["data"]["bulkJobs"]
    assert [e["node"]["id"] for e in listed["edges"]] == [job["id"]]
    assert gql(JOB, {"id": job["id"]}, as_=driver)["data"]["bulkJob"]["total"] == 1


def test_anonymous_callers_may_not_list_or_read_jobs(gql, staff):
    job = start_import(gql, staff)
    assert gql(JOBS, expect_errors=True).error_codes == ["UNAUTHENTICATED"]
    assert gql(JOB, {"id": job["id"]}, expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_the_list_filters_running_jobs(gql, staff):
    finished = start_import(gql, staff)
    run_jobs()
    queued = start_import(gql, staff)
    running = gql(JOBS, {"filter": {"running": True}}, as_=staff)["data"]["bulkJobs"]
    assert [e["node"]["id"] for e in running["edges"]] == [queued["id"]]
    done = gql(JOBS, {"filter": {"status": "SUCCEEDED"}}, as_=staff)["data"]["bulkJobs"]
    assert [e["node"]["id"] for e in done["edges"]] == [finished["id"]]


def test_a_queued_job_cancelled_never_runs(gql, staff):
    job = start_import(gql, staff)
    payload = gql(CANCEL, {"id": job["id"]}, as_=staff)["data"]["cancelBulkJob"]
    assert payload == {"bulkJob": {"status": "CANCELLED", "cancelRequested": True}, "errors": []}
    run_jobs()
    assert ShippingItem.objects.count() == 0
    again = gql(CANCEL, {"id": job["id"]}, as_=staff)["data"]["cancelBulkJob"]
    assert [e["code"] for e in again["errors"]] == ["JOB_FINISHED"]


def test_a_running_job_cancelled_stops_after_its_current_chunk(gql, staff, small_chunks):
    job = start_import(gql, staff, count=9)
    job_uuid = BulkJob.objects.get().uuid
    seen: list[int] = []
    original = jobs_api.kind_named("shipping.importItems")
    assert original is not None

    def cancel_during_the_second_row(row, options):
        seen.append(1)
        if len(seen) == 2:  # the cancel arrives while the first chunk runs
            services.job_cancel(job_uuid=job_uuid, is_staff=True, user_uuid=None)
        return original.apply_row(row, options)

    jobs_api.register_kind(jobs_api.JobKind(original.name, cancel_during_the_second_row))
    try:
        run_jobs()
    finally:
        jobs_api.register_kind(original)
    done = gql(JOB, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]
    assert (done["status"], done["processed"]) == ("CANCELLED", 3)
    assert ShippingItem.objects.count() == 3


def test_nobody_cancels_another_users_job(gql, staff, driver, non_staff):
    job = start_import(gql, staff)
    payload = gql(CANCEL, {"id": job["id"]}, as_=driver)["data"]["cancelBulkJob"]
    assert [e["code"] for e in payload["errors"]] == ["JOB_NOT_FOUND"]
    anonymous = gql(CANCEL, {"id": job["id"]})["data"]["cancelBulkJob"]
    assert [e["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    assert BulkJob.objects.get().status == "QUEUED"
