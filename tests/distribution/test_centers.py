"""Creating, renaming and deleting centers: validation, events, and MMD's distribution defects."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from modules.distribution import api as distribution_api
from tests.distribution.factories import (
    emitted,
    error_codes,
    make_center,
    payload_errors,
    record_arrival,
)

pytestmark = pytest.mark.django_db

CREATE = """
mutation Create($input: CreateDistributionCenterInput!) {
  createDistributionCenter(input: $input) {
    distributionCenter { uuid centerCode name }
    errors { field message code }
  }
}
"""
UPDATE = """
mutation Update($code: String!, $input: UpdateDistributionCenterInput!) {
  updateDistributionCenter(centerCode: $code, input: $input) {
    distributionCenter { centerCode name }
    errors { field message code }
  }
}
"""
DELETE = """
mutation Delete($code: String!) {
  deleteDistributionCenter(centerCode: $code) {
    distributionCenter { uuid centerCode name staff { uuid } inventoryCount }
    errors { field message code }
  }
}
"""
CENTER = "query C($code: String!) { distributionCenter(centerCode: $code) { centerCode name } }"


def test_create_normalises_the_center_code_and_emits_created(gql, staff):
    result = gql(CREATE, {"input": {"centerCode": "  ny-01 ", "name": "  New   York  "}}, as_=staff)
    center = result["data"]["createDistributionCenter"]["distributionCenter"]
    assert (center["centerCode"], center["name"]) == ("NY-01", "New York")
    assert emitted("DistributionCenterCreated") == [
        {"centerUuid": center["uuid"], "centerCode": "NY-01", "name": "New York"}
    ]


@pytest.mark.parametrize("code", ["A", "ABCDEFGHIJKLMNOPQ", "AB_01", "AB 01", "ÄB01", ""])
def test_create_refuses_malformed_center_codes(gql, staff, code):
    result = gql(CREATE, {"input": {"centerCode": code, "name": "Somewhere"}}, as_=staff)
    payload = result["data"]["createDistributionCenter"]
    assert payload["distributionCenter"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("centerCode", "INVALID_CENTER_CODE")
    ]
    assert emitted("DistributionCenterCreated") == []


def test_create_reports_every_bad_field_at_once(gql, staff):
    result = gql(CREATE, {"input": {"centerCode": "x", "name": "   "}}, as_=staff)
    errors = payload_errors(result, "createDistributionCenter")
    assert {(e["field"], e["code"]) for e in errors} == {
        ("centerCode", "INVALID_CENTER_CODE"),
        ("name", "INVALID_NAME"),
    }


def test_create_refuses_a_code_taken_in_another_case(gql, staff):
    make_center("ABC001")
    result = gql(CREATE, {"input": {"centerCode": "abc001", "name": "Twin"}}, as_=staff)
    assert error_codes(result, "createDistributionCenter") == ["CENTER_CODE_TAKEN"]


def test_create_does_not_silently_drop_staff_members(gql, staff):
    """MMD accepted and dropped `staff_members` on create; here the input has no such field."""
    result = gql(
        CREATE,
        {"input": {"centerCode": "ZZ01", "name": "Z", "staffMembers": [str(uuid.uuid4())]}},
        as_=staff,
        expect_errors=True,
    )
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_update_refuses_a_center_code_change_and_writes_nothing(gql, staff):
    """MMD ignored a changed center_code on update and answered 200."""
    make_center("ABC001", "Old name")
    result = gql(
        UPDATE, {"code": "ABC001", "input": {"name": "New name", "centerCode": "XYZ001"}}, as_=staff
    )
    payload = result["data"]["updateDistributionCenter"]
    assert payload["distributionCenter"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("centerCode", "CENTER_CODE_IMMUTABLE")
    ]
    assert (
        gql(CENTER, {"code": "ABC001"}, as_=staff)["data"]["distributionCenter"]["name"]
        == "Old name"
    )
    assert emitted("DistributionCenterUpdated") == []


def test_update_accepts_the_unchanged_center_code(gql, staff):
    make_center("ABC001", "Old name")
    result = gql(
        UPDATE, {"code": "abc001", "input": {"name": "New name", "centerCode": "ABC001"}}, as_=staff
    )
    assert result["data"]["updateDistributionCenter"] == {
        "distributionCenter": {"centerCode": "ABC001", "name": "New name"},
        "errors": [],
    }
    assert emitted("DistributionCenterUpdated")[0]["previousName"] == "Old name"


def test_update_with_the_same_name_emits_nothing(gql, staff):
    make_center("ABC001", "Same")
    gql(UPDATE, {"code": "ABC001", "input": {"name": "Same"}}, as_=staff)
    assert emitted("DistributionCenterUpdated") == []


def test_update_refuses_a_blank_name(gql, staff):
    make_center("ABC001", "Kept")
    result = gql(UPDATE, {"code": "ABC001", "input": {"name": " "}}, as_=staff)
    assert error_codes(result, "updateDistributionCenter") == ["INVALID_NAME"]


def test_update_of_an_unknown_center_is_a_typed_error(gql, staff):
    result = gql(UPDATE, {"code": "NOPE01", "input": {"name": "x"}}, as_=staff)
    assert error_codes(result, "updateDistributionCenter") == ["UNKNOWN_CENTER"]


def test_delete_an_unused_center(gql, staff):
    center = make_center("DEL01", "Doomed")
    result = gql(DELETE, {"code": "DEL01"}, as_=staff)
    assert result["data"]["deleteDistributionCenter"] == {
        "distributionCenter": {
            "uuid": str(center.uuid),
            "centerCode": "DEL01",
            "name": "Doomed",
            "staff": [],
            "inventoryCount": 0,
        },
        "errors": [],
    }
    assert gql(CENTER, {"code": "DEL01"}, as_=staff)["data"]["distributionCenter"] is None
    assert emitted("DistributionCenterDeleted") == [
        {"centerUuid": str(center.uuid), "centerCode": "DEL01"}
    ]


def test_delete_is_refused_while_a_transport_refers_to_the_center(gql, staff):
    """MMD deleted centers that transports still named."""
    make_center("SRC01")
    with transaction.atomic():
        distribution_api.claim_centers(["SRC01"], holder=f"transport:{uuid.uuid4()}")
    result = gql(DELETE, {"code": "SRC01"}, as_=staff)
    assert error_codes(result, "deleteDistributionCenter") == ["CENTER_IN_USE"]
    assert gql(CENTER, {"code": "SRC01"}, as_=staff)["data"]["distributionCenter"] is not None
    assert emitted("DistributionCenterDeleted") == []


def test_delete_is_allowed_again_once_the_claim_is_released(gql, staff):
    make_center("SRC01")
    holder = f"transport:{uuid.uuid4()}"
    distribution_api.claim_centers(["SRC01"], holder=holder)
    assert distribution_api.release_centers(holder=holder) == 1
    assert (
        payload_errors(gql(DELETE, {"code": "SRC01"}, as_=staff), "deleteDistributionCenter") == []
    )


def test_delete_is_refused_while_items_are_in_inventory(gql, staff, distribution_key):
    make_center("HUB01")
    record_arrival(gql, distribution_key, "HUB01", ["TN1"])
    result = gql(DELETE, {"code": "HUB01"}, as_=staff)
    assert error_codes(result, "deleteDistributionCenter") == ["CENTER_IN_USE"]


def test_delete_of_an_unknown_center_is_a_typed_error(gql, staff):
    assert error_codes(gql(DELETE, {"code": "NOPE01"}, as_=staff), "deleteDistributionCenter") == [
        "UNKNOWN_CENTER"
    ]


def test_signed_in_non_staff_reads_a_center_like_the_list(gql, non_staff):
    """MMD let any signed-in user list centers but needed is_staff to retrieve one."""
    make_center("ABC001", "Visible")
    listed = gql(
        "{ distributionCenters(first: 5) { edges { node { centerCode name } } } }", as_=non_staff
    )
    assert listed["data"]["distributionCenters"]["edges"] == [
        {"node": {"centerCode": "ABC001", "name": "Visible"}}
    ]
    one = gql(CENTER, {"code": "abc001"}, as_=non_staff)
    assert one["data"]["distributionCenter"] == {"centerCode": "ABC001", "name": "Visible"}
