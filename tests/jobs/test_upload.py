"""importShippingItemsCsv through the GraphQL multipart request spec: a preflight-forcing header,
the size limit at its edge, and a wrong file refused as a whole (nothing queued)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from modules.jobs.models import BulkJob
from tests.conftest import bearer
from tests.jobs.conftest import run_jobs

pytestmark = pytest.mark.django_db

UPLOAD = (
    "mutation($file: Upload!) { importShippingItemsCsv(file: $file) "
    "{ bulkJob { id total status } errors { field code } } }"
)


def upload(client, content: bytes, *, user: Any = None, preflight: bool = True) -> Any:
    headers: dict[str, str] = {"HTTP_ACCEPT": "application/json"}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = bearer(user)
    if preflight:
        headers["HTTP_APOLLO_REQUIRE_PREFLIGHT"] = "true"
    data = {
        "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
        "map": json.dumps({"0": ["variables.file"]}),
        "0": SimpleUploadedFile("items.csv", content, content_type="text/csv"),
    }
    return client.post("/graphql/", data, **headers)


def test_a_csv_upload_starts_an_import_of_its_rows(client, staff):
    response = upload(client, b"sku\nA-1\nA-2\nbad sku\n", user=staff)
    payload = response.json()["data"]["importShippingItemsCsv"]
    assert payload["errors"] == []
    assert payload["bulkJob"]["total"] == 3
    run_jobs()
    job = BulkJob.objects.get()
    assert (job.status, job.failed) == ("PARTIALLY_FAILED", 1)
    assert list(job.row_errors.values_list("row_number", "code")) == [(3, "INVALID_SKU")]


def test_a_multipart_request_without_the_preflight_header_is_refused(client, staff):
    response = upload(client, b"sku\nA-1\n", user=staff, preflight=False)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PREFLIGHT_REQUIRED"
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"name\nA-1\n", "INVALID_CSV"),  # wrong header
        (b"", "INVALID_CSV"),  # no header at all
        (b"sku\n\xff\xfeA\n", "INVALID_CSV"),  # not UTF-8
        (b"sku\n", "NO_ROWS"),
    ],
)
def test_a_wrong_file_is_refused_as_a_whole(client, staff, content, code):
    payload = upload(client, content, user=staff).json()["data"]["importShippingItemsCsv"]
    assert payload == {"bulkJob": None, "errors": [{"field": "file", "code": code}]}
    assert not BulkJob.objects.exists()


def test_a_row_with_more_cells_than_the_header_is_a_row_error(client, staff):
    upload(client, b"sku\nA-1,extra\nA-2\n", user=staff)
    run_jobs()
    job = BulkJob.objects.get()
    assert list(job.row_errors.values_list("row_number", "code")) == [(1, "INVALID_CSV")]


def test_the_size_limit_holds_at_its_edge(client, staff, settings):
    settings.JOBS_UPLOAD_MAX_BYTES = 1000
    header = b"sku\n"
    exactly = header + b"S\n" * ((1000 - len(header)) // 2)
    assert len(exactly) == 1000
    accepted = upload(client, exactly, user=staff).json()["data"]["importShippingItemsCsv"]
    assert accepted["errors"] == []
    refused = upload(client, exactly + b"S", user=staff).json()["data"]["importShippingItemsCsv"]
    assert refused == {"bulkJob": None, "errors": [{"field": "file", "code": "FILE_TOO_LARGE"}]}
    assert BulkJob.objects.count() == 1


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(client, staff, settings):
    settings.JOBS_UPLOAD_MAX_BYTES = 1000
    response = upload(client, b"sku\n" + b"S\n" * 40_000, user=staff)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize("who", ["anonymous", "driver"])
def test_only_staff_may_upload_an_import(client, who, driver):
    caller = None if who == "anonymous" else driver
    payload = upload(client, b"sku\nA\n", user=caller).json()["data"]["importShippingItemsCsv"]
    assert [e["code"] for e in payload["errors"]] == [
        "UNAUTHENTICATED" if caller is None else "FORBIDDEN"
    ]
    assert not BulkJob.objects.exists()


def post_form(client, staff, data: Any, **extra: Any) -> Any:
    return client.post(
        "/graphql/",
        data,
        HTTP_ACCEPT="application/json",
        HTTP_AUTHORIZATION=bearer(staff),
        HTTP_APOLLO_REQUIRE_PREFLIGHT="true",
        **extra,
    )


@pytest.mark.parametrize(
    "form",
    [
        {"operations": "not json", "map": "{}"},
        {"map": "{}"},
        {"operations": json.dumps([{"query": UPLOAD}]), "map": "{}"},
        {"operations": json.dumps({"query": UPLOAD, "variables": {}}), "map": '{"0": "x"}'},
        # The map names a file the request does not carry, or a path the operations lack.
        {"operations": json.dumps({"query": UPLOAD}), "map": '{"0": ["variables.file"]}'},
        {
            "operations": json.dumps({"query": UPLOAD, "variables": []}),
            "map": '{"0": ["variables.file"]}',
        },
    ],
)
def test_a_malformed_multipart_request_is_a_request_error(client, staff, form):
    response = post_form(client, staff, form)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert not BulkJob.objects.exists()


def test_a_body_that_is_no_multipart_form_is_a_request_error(client, staff):
    response = client.post(
        "/graphql/",
        b"--nope\r\ngarbage",
        content_type="multipart/form-data; boundary=",
        HTTP_ACCEPT="application/json",
        HTTP_AUTHORIZATION=bearer(staff),
        HTTP_APOLLO_REQUIRE_PREFLIGHT="true",
    )
    assert response.status_code == 400
