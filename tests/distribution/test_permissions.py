"""Who may call what: every distribution operation against every kind of caller."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.distribution.factories import announce, make_center
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "driver", "non_staff", "staff", "distribution_key", "heartbeat_key"]


def _expect(allowed: set[str], caller: str) -> str:
    """The same refusal codes for queries (extensions.code) and mutations (typed errors)."""
    if caller in allowed:
        return "ok"
    if caller == "anonymous":
        return "UNAUTHENTICATED"
    return "FORBIDDEN"


SIGNED_IN = {"driver", "non_staff", "staff"}
STAFF = {"staff"}
DISTRIBUTION = {"distribution_key"}

QUERIES = {
    "distributionCenters": ("{ distributionCenters(first: 5) { totalCount } }", SIGNED_IN),
    "distributionCenter": (
        '{ distributionCenter(centerCode: "HUB01") { uuid centerCode name } }',
        SIGNED_IN,
    ),
    "staff": ('{ distributionCenter(centerCode: "HUB01") { staff { uuid } } }', STAFF),
    "inventory": (
        '{ distributionCenter(centerCode: "HUB01") { inventory(first: 5) { totalCount } } }',
        STAFF,
    ),
    "inventoryCount": ('{ distributionCenter(centerCode: "HUB01") { inventoryCount } }', STAFF),
    "listStaff": ("{ distributionCenters(first: 5) { edges { node { staff { uuid } } } } }", STAFF),
}

MUTATIONS = {
    "createDistributionCenter": (
        """mutation { createDistributionCenter(input: {centerCode: "NEW01", name: "New"}) {
             errors { code } } }""",
        STAFF,
    ),
    "updateDistributionCenter": (
        """mutation { updateDistributionCenter(centerCode: "HUB01", input: {name: "Renamed"}) {
             errors { code } } }""",
        STAFF,
    ),
    "deleteDistributionCenter": (
        'mutation { deleteDistributionCenter(centerCode: "HUB01") { errors { code } } }',
        STAFF,
    ),
    "addCenterStaff": (
        """mutation($u: [UUID!]!) { addCenterStaff(centerCode: "HUB01", userUuids: $u) {
             errors { code } } }""",
        STAFF,
    ),
    "removeCenterStaff": (
        """mutation($u: [UUID!]!) { removeCenterStaff(centerCode: "HUB01", userUuids: $u) {
             errors { code } } }""",
        STAFF,
    ),
    "recordDeparture": (
        """mutation($t: UUID!) {
             recordDeparture(transportUuid: $t, centerCode: "HUB01", trackingNumbers: ["TN-1"]) {
               errors { code } } }""",
        DISTRIBUTION,
    ),
    "recordArrival": (
        """mutation($t: UUID!) {
             recordArrival(transportUuid: $t, centerCode: "HUB01", trackingNumbers: ["TN-1"]) {
               errors { code } } }""",
        DISTRIBUTION,
    ),
}


@pytest.fixture
def hub():
    center = make_center("HUB01")
    member = make_staff()
    center.staff_members.create(user_uuid=member.uuid)
    return member


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", QUERIES)
def test_query_permissions(gql, callers, hub, operation, caller):
    query, allowed = QUERIES[operation]
    result = gql(query, as_=callers[caller], expect_errors=True)
    expected = _expect(allowed, caller)
    if expected == "ok":
        assert "errors" not in result, result["errors"]
    else:
        assert result.error_codes == [expected]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", MUTATIONS)
def test_mutation_permissions(gql, callers, hub, operation, caller):
    mutation, allowed = MUTATIONS[operation]
    variables: dict[str, Any] = {"u": [str(hub.uuid)], "t": str(uuid.uuid4())}
    if operation in ("recordDeparture", "recordArrival"):  # a movement shipping announced
        kind = "DEPARTURE" if operation == "recordDeparture" else "ARRIVAL"
        announce(kind, variables["t"], "HUB01", ["TN-1"])
    result = gql(mutation, variables, as_=callers[caller])
    codes = [e["code"] for e in result["data"][operation]["errors"]]
    expected = _expect(allowed, caller)
    assert codes == ([] if expected == "ok" else [expected])


def test_non_staff_reads_public_fields_but_gets_a_coded_error_for_staff_only_ones(
    gql, non_staff, hub
):
    """Field-level rule: the staff-only field fails with FORBIDDEN at its path; nothing leaks."""
    result = gql(
        '{ distributionCenter(centerCode: "HUB01") { centerCode staff { uuid } } }',
        as_=non_staff,
        expect_errors=True,
    )
    assert result.error_codes == ["FORBIDDEN"]
    assert result["errors"][0]["path"] == ["distributionCenter", "staff"]
    assert result["data"] == {"distributionCenter": None}


def test_a_denied_mutation_writes_nothing(gql, driver, hub):
    gql(MUTATIONS["updateDistributionCenter"][0], as_=driver)
    assert (
        gql('{ distributionCenter(centerCode: "HUB01") { name } }', as_=driver)["data"][
            "distributionCenter"
        ]["name"]
        == "Center HUB01"
    )


def test_superuser_is_staff(gql, superuser, hub):
    result = gql(
        '{ distributionCenter(centerCode: "HUB01") { staff { uuid } inventoryCount } }',
        as_=superuser,
    )
    assert result["data"]["distributionCenter"]["staff"] == [{"uuid": str(hub.uuid)}]
