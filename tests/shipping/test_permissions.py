"""Who may call each shipping operation: anonymous, driver (own or other transport), non-staff,
staff, superuser and machine clients (API keys). A refused call changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from events.models import OutboxEvent
from modules.shipping.models import (
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    Transport,
    TransportStatus,
)
from tests.shipping.factories import api_key, make_batch, make_items, make_transport

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(centers, driver, other_driver) -> dict[str, Any]:
    item = make_items(1)[0]
    loose = make_batch("LOOSE")
    own = make_transport(driver=driver, batches=[make_batch("OWN", items=make_items(1))])
    started = make_transport(
        driver=driver, batches=[make_batch("OWN-GONE", items=make_items(1))], started=True
    )
    other = make_transport(driver=other_driver, batches=[make_batch("OTHER", items=make_items(1))])
    return {"item": item, "loose": loose, "own": own, "started": started, "other": other}


@pytest.fixture
def caller(request) -> Any:
    name = request.param
    if name == "anonymous":
        return None
    if name == "distribution_key":
        return api_key("DISTRIBUTION")
    if name == "all_scopes_key":
        return api_key("DISTRIBUTION", "HEARTBEAT", "NOTIFICATION")
    return request.getfixturevalue(name)


CALLERS = [
    "anonymous",
    "driver",
    "other_driver",
    "non_staff",
    "staff",
    "superuser",
    "distribution_key",
    "all_scopes_key",
]
STAFF = {"staff", "superuser"}

QUERIES = {
    "shippingItems": ("{ shippingItems(first: 5) { totalCount } }", STAFF),
    "shippingItem": ("query($tn: String!) { shippingItem(trackingNumber: $tn) { uuid } }", STAFF),
    "shippingBatches": ("{ shippingBatches(first: 5) { totalCount } }", STAFF),
    "shippingBatch": ('{ shippingBatch(alias: "LOOSE") { uuid } }', STAFF),
    "transports": ("{ transports(first: 5) { totalCount } }", STAFF | {"driver", "other_driver"}),
    "transport": (
        "query($u: UUID!) { transport(uuid: $u) { uuid } }",
        STAFF | {"driver", "other_driver"},
    ),
}


def snapshot() -> tuple:
    return (
        list(ShippingItem.objects.order_by("pk").values_list("status", "current_center_code")),
        list(
            ShippingBatch.objects.order_by("pk").values_list("alias", "transport_id", "completed")
        ),
        list(Transport.objects.order_by("pk").values_list("status", "driver_uuid")),
        BatchMembership.objects.count(),
        OutboxEvent.objects.count(),
    )


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@pytest.mark.parametrize("name", list(QUERIES))
def test_queries(gql, world, caller, request, name):
    query, allowed = QUERIES[name]
    variables = {"tn": world["item"].tracking_number, "u": str(world["own"].uuid)}
    variables = {k: v for k, v in variables.items() if f"${k}" in query}
    caller_name = request.node.callspec.params["caller"]
    result = gql(query, variables, as_=caller, expect_errors=True)
    if caller_name in allowed:
        assert "errors" not in result, result
        assert result["data"][name] is not None or caller_name == "other_driver"
    else:
        expected = "UNAUTHENTICATED" if caller_name == "anonymous" else "FORBIDDEN"
        assert result.error_codes == [expected]
        assert result["data"] is None or result["data"][name] is None


def test_a_driver_counts_only_their_own_transports(gql, world, driver, other_driver):
    assert (
        gql("{ transports(first: 5) { totalCount } }", as_=driver)["data"]["transports"][
            "totalCount"
        ]
        == 2
    )
    assert (
        gql("{ transports(first: 5) { totalCount } }", as_=other_driver)["data"]["transports"][
            "totalCount"
        ]
        == 1
    )


def mutation_cases(world: dict[str, Any], driver: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "createShippingItem": (
            'mutation { createShippingItem(input: { sku: "S1" }) { errors { code } } }',
            {},
        ),
        "updateShippingItemStatus": (
            "mutation($tn: String!) { "
            "updateShippingItemStatus(trackingNumber: $tn, status: LOST) { errors { code } } }",
            {"tn": world["item"].tracking_number},
        ),
        "createShippingBatch": (
            'mutation { createShippingBatch(input: { alias: "NEW" }) { errors { code } } }',
            {},
        ),
        "addItemsToBatch": (
            'mutation($tn: String!) { addItemsToBatch(alias: "LOOSE", '
            "trackingNumbers: [$tn]) { errors { code } } }",
            {"tn": world["item"].tracking_number},
        ),
        "createTransport": (
            "mutation { createTransport(input: { sourceCenterCode: "
            '"ABC002", destinationCenterCode: "ABC001" }) '
            "{ errors { code } } }",
            {},
        ),
        "addBatchesToTransport": (
            "mutation($u: UUID!) { addBatchesToTransport(transportUuid: "
            '$u, aliases: ["LOOSE"]) { errors { code } } }',
            {"u": str(world["own"].uuid)},
        ),
        "assignDriver": (
            "mutation($u: UUID!, $d: UUID!) { assignDriver(transportUuid: "
            "$u, driverUuid: $d) { errors { code } } }",
            {"u": str(world["other"].uuid), "d": str(driver.uuid)},
        ),
    }


STAFF_ONLY_MUTATIONS = [
    "createShippingItem",
    "updateShippingItemStatus",
    "createShippingBatch",
    "addItemsToBatch",
    "createTransport",
    "addBatchesToTransport",
    "assignDriver",
]


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@pytest.mark.parametrize("name", STAFF_ONLY_MUTATIONS)
def test_staff_only_mutations(gql, world, driver, caller, request, name):
    query, variables = mutation_cases(world, driver)[name]
    caller_name = request.node.callspec.params["caller"]
    before = snapshot()
    result = gql(query, variables, as_=caller)
    codes = [e["code"] for e in result["data"][name]["errors"]]
    if caller_name in STAFF:
        assert codes == []
        assert snapshot() != before
    else:
        assert codes == ["UNAUTHENTICATED" if caller_name == "anonymous" else "FORBIDDEN"]
        assert snapshot() == before


START = (
    "mutation($u: UUID!) { startTransport(transportUuid: $u) { "
    "transport { status } errors { code } } }"
)
COMPLETE = (
    "mutation($u: UUID!) { completeTransport(transportUuid: $u) "
    "{ transport { status } errors { code } } }"
)


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@pytest.mark.parametrize(
    "name,query,target",
    [("startTransport", START, "own"), ("completeTransport", COMPLETE, "started")],
)
def test_start_and_complete_are_for_staff_and_the_transports_driver(
    gql, world, caller, request, name, query, target
):
    caller_name = request.node.callspec.params["caller"]
    before = snapshot()
    result = gql(query, {"u": str(world[target].uuid)}, as_=caller)
    codes = [e["code"] for e in result["data"][name]["errors"]]
    if caller_name in STAFF | {"driver"}:
        assert codes == []
        assert result["data"][name]["transport"]["status"] in ("IN_TRANSIT", "ARRIVED")
    else:
        refusal = {"anonymous": "UNAUTHENTICATED", "other_driver": "TRANSPORT_NOT_FOUND"}
        assert codes == [refusal.get(caller_name, "FORBIDDEN")]
        assert result["data"][name]["transport"] is None
        assert snapshot() == before


FULL_START = START.replace("errors { code }", "errors { field code message }")
FULL_COMPLETE = COMPLETE.replace("errors { code }", "errors { field code message }")


@pytest.mark.parametrize(
    "name,query", [("startTransport", FULL_START), ("completeTransport", FULL_COMPLETE)]
)
def test_a_driver_cannot_tell_someone_elses_transport_from_a_missing_one(
    gql, world, driver, other_driver, name, query
):
    """Attack: a driver probes transport uuids. Another driver's transport (in any state) and one
    that does not exist get the very same answer, so the probe learns nothing."""
    other = world["other"]
    started_elsewhere = make_transport(
        driver=other_driver, batches=[make_batch("OTHER-GONE", items=make_items(1))], started=True
    )
    missing = uuid.uuid4()
    before = snapshot()

    def answer(target: uuid.UUID) -> dict[str, Any]:
        payload = gql(query, {"u": str(target)}, as_=driver)["data"][name]
        assert payload["transport"] is None
        [error] = payload["errors"]
        # The message names the uuid asked for: the same for both; compare it without that.
        return {**error, "message": error["message"].replace(str(target), "<uuid>")}

    answers = [answer(t.uuid) for t in (other, started_elsewhere)] + [answer(missing)]
    assert answers == [answers[-1]] * 3
    assert answers[-1] == {
        "field": "transportUuid",
        "code": "TRANSPORT_NOT_FOUND",
        "message": "No transport has uuid '<uuid>'.",
    }
    assert snapshot() == before
    assert Transport.objects.get(pk=other.pk).status == TransportStatus.CREATED


@pytest.mark.parametrize("name,query", [("startTransport", START), ("completeTransport", COMPLETE)])
def test_staff_keep_their_precise_answers(gql, world, staff, name, query):
    code = "TRANSPORT_NOT_DEPARTED" if name == "completeTransport" else None
    result = gql(query, {"u": str(uuid.uuid4())}, as_=staff)["data"][name]
    assert [e["code"] for e in result["errors"]] == ["TRANSPORT_NOT_FOUND"]
    result = gql(query, {"u": str(world["other"].uuid)}, as_=staff)["data"][name]
    # Staff may act on any transport: a completion before departure says why it is refused.
    assert [e["code"] for e in result["errors"]] == ([code] if code else [])


def test_the_driver_runs_their_own_trip_end_to_end(gql, world, driver):
    own = world["own"]
    assert gql(START, {"u": str(own.uuid)}, as_=driver)["data"]["startTransport"]["errors"] == []
    assert (
        gql(COMPLETE, {"u": str(own.uuid)}, as_=driver)["data"]["completeTransport"]["errors"] == []
    )
    assert Transport.objects.get(pk=own.pk).status == TransportStatus.ARRIVED


def test_nested_shipping_fields_follow_the_same_rules_through_node(gql, world, non_staff, staff):
    node_id = gql("{ transports(first: 1) { edges { node { id } } } }", as_=staff)["data"][
        "transports"
    ]["edges"][0]["node"]["id"]
    assert (
        gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, as_=non_staff)["data"][
            "node"
        ]
        is None
    )
    anonymous = gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, expect_errors=True)
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
