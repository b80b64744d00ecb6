"""GraphQL twins of MMD's distribution scenarios (#19-23 of the REST original's
scenario list)."""

from __future__ import annotations

import pytest

from tests.distribution.conftest import MMD_CENTER_ABC001

pytestmark = pytest.mark.django_db

CENTERS = """
query Centers {
  distributionCenters(first: 10) { totalCount edges { node { uuid centerCode name } } }
}
"""
CENTER = """
query Center($code: String!) { distributionCenter(centerCode: $code) { uuid centerCode name } }
"""
CREATE = """
mutation Create($input: CreateDistributionCenterInput!) {
  createDistributionCenter(input: $input) {
    distributionCenter { uuid centerCode name staff { uuid } }
    errors { field message code }
  }
}
"""
RENAME = """
mutation Rename($code: String!, $input: UpdateDistributionCenterInput!) {
  updateDistributionCenter(centerCode: $code, input: $input) {
    distributionCenter { uuid centerCode name }
    errors { field code }
  }
}
"""


def test_19_anonymous_listing_is_refused(gql, mmd_centers):
    result = gql(CENTERS, expect_errors=True)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result["data"] is None


def test_20_staff_lists_both_centers(gql, mmd_centers, staff):
    result = gql(CENTERS, as_=staff)["data"]["distributionCenters"]
    assert result["totalCount"] == 2
    assert {edge["node"]["centerCode"] for edge in result["edges"]} == {"ABC001", "ABC002"}


def test_21_staff_creates_a_center_that_then_lists_and_resolves(gql, mmd_centers, staff):
    created = gql(CREATE, {"input": {"name": "NewYork 001", "centerCode": "NEWYORK001"}}, as_=staff)
    payload = created["data"]["createDistributionCenter"]
    assert payload["errors"] == []
    center = payload["distributionCenter"]
    assert center["name"] == "NewYork 001"
    assert center["centerCode"] == "NEWYORK001"
    assert center["staff"] == []

    assert gql(CENTERS, as_=staff)["data"]["distributionCenters"]["totalCount"] == 3
    fetched = gql(CENTER, {"code": "NEWYORK001"}, as_=staff)["data"]["distributionCenter"]
    assert fetched["uuid"] == center["uuid"]


def test_22_duplicate_center_code_is_a_typed_error(gql, mmd_centers, staff):
    result = gql(CREATE, {"input": {"name": "randomname", "centerCode": "ABC001"}}, as_=staff)
    payload = result["data"]["createDistributionCenter"]
    assert payload["distributionCenter"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("centerCode", "CENTER_CODE_TAKEN")
    ]
    assert gql(CENTERS, as_=staff)["data"]["distributionCenters"]["totalCount"] == 2


def test_23_staff_renames_a_center(gql, mmd_centers, staff):
    result = gql(RENAME, {"code": "ABC001", "input": {"name": "new_name"}}, as_=staff)
    payload = result["data"]["updateDistributionCenter"]
    assert payload["errors"] == []
    assert payload["distributionCenter"] == {
        "uuid": str(MMD_CENTER_ABC001),
        "centerCode": "ABC001",
        "name": "new_name",
    }
    assert (
        gql(CENTER, {"code": "ABC001"}, as_=staff)["data"]["distributionCenter"]["name"]
        == "new_name"
    )
