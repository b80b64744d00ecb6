"""recordDeparture / recordArrival: inventory follows transports; repeats change nothing."""

from __future__ import annotations

import uuid

import pytest

from modules.distribution.api import MAX_ITEMS_PER_MOVEMENT
from modules.distribution.models import AnnouncedMovement
from tests.distribution.factories import (
    announce,
    emitted,
    error_codes,
    make_center,
    payload_errors,
)

pytestmark = pytest.mark.django_db

ARRIVAL = """
mutation Arrive($transport: UUID!, $code: String!, $numbers: [String!]!) {
  recordArrival(transportUuid: $transport, centerCode: $code, trackingNumbers: $numbers) {
    distributionCenter { centerCode }
    alreadyRecorded
    errors { field message code }
  }
}
"""
DEPARTURE = ARRIVAL.replace("Arrive", "Depart").replace("recordArrival", "recordDeparture")
INVENTORY = """
query Inventory($code: String!) {
  distributionCenter(centerCode: $code) {
    inventoryCount
    inventory(first: 100) { totalCount edges { node { trackingNumber arrivedAt transportUuid } } }
  }
}
"""


@pytest.fixture
def centers():
    return make_center("SRC01"), make_center("DST01")


def arrive(gql, key, transport, code, numbers, *, announced=True):
    """recordArrival, by default of an arrival TransportCompleted announced just so."""
    if announced:
        announce("ARRIVAL", transport, code, numbers)
    return gql(ARRIVAL, {"transport": str(transport), "code": code, "numbers": numbers}, as_=key)


def depart(gql, key, transport, code, numbers, *, announced=True):
    if announced:
        announce("DEPARTURE", transport, code, numbers)
    return gql(DEPARTURE, {"transport": str(transport), "code": code, "numbers": numbers}, as_=key)


def stock(gql, staff, code):
    center = gql(INVENTORY, {"code": code}, as_=staff)["data"]["distributionCenter"]
    numbers = sorted(edge["node"]["trackingNumber"] for edge in center["inventory"]["edges"])
    assert center["inventoryCount"] == center["inventory"]["totalCount"] == len(numbers)
    return numbers


def test_arrival_puts_the_items_into_the_inventory(gql, staff, distribution_key, centers):
    transport = uuid.uuid4()
    result = arrive(gql, distribution_key, transport, "dst01", ["TN-1", "TN-2"])
    assert result["data"]["recordArrival"] == {
        "distributionCenter": {"centerCode": "DST01"},
        "alreadyRecorded": False,
        "errors": [],
    }
    center = gql(INVENTORY, {"code": "DST01"}, as_=staff)["data"]["distributionCenter"]
    nodes = [edge["node"] for edge in center["inventory"]["edges"]]
    assert sorted(n["trackingNumber"] for n in nodes) == ["TN-1", "TN-2"]
    assert {n["transportUuid"] for n in nodes} == {str(transport)}
    assert all(n["arrivedAt"] for n in nodes)
    assert emitted("ArrivalRecorded") == [
        {
            "transportUuid": str(transport),
            "centerCode": "DST01",
            "trackingNumbers": ["TN-1", "TN-2"],
            "movedFrom": {},
        }
    ]


def test_the_same_arrival_twice_changes_and_emits_nothing(gql, staff, distribution_key, centers):
    transport = uuid.uuid4()
    arrive(gql, distribution_key, transport, "DST01", ["TN-1", "TN-2"])
    before = gql(INVENTORY, {"code": "DST01"}, as_=staff)["data"]
    again = arrive(gql, distribution_key, transport, "DST01", ["TN-2", "TN-1"])
    assert again["data"]["recordArrival"]["alreadyRecorded"] is True
    assert again["data"]["recordArrival"]["errors"] == []
    assert gql(INVENTORY, {"code": "DST01"}, as_=staff)["data"] == before
    assert len(emitted("ArrivalRecorded")) == 1


def test_the_same_departure_twice_changes_and_emits_nothing(gql, staff, distribution_key, centers):
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1", "TN-2", "TN-3"])
    transport = uuid.uuid4()
    first = depart(gql, distribution_key, transport, "SRC01", ["TN-1", "TN-2"])
    assert first["data"]["recordDeparture"]["alreadyRecorded"] is False
    assert stock(gql, staff, "SRC01") == ["TN-3"]
    again = depart(gql, distribution_key, transport, "SRC01", ["TN-1", "TN-2"])
    assert again["data"]["recordDeparture"]["alreadyRecorded"] is True
    assert stock(gql, staff, "SRC01") == ["TN-3"]
    assert emitted("DepartureRecorded") == [
        {
            "transportUuid": str(transport),
            "centerCode": "SRC01",
            "trackingNumbers": ["TN-1", "TN-2"],
            "leftInventoryCount": 2,
        }
    ]


def test_a_full_trip_moves_items_from_source_to_destination(gql, staff, distribution_key, centers):
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1", "TN-2"])
    trip = uuid.uuid4()
    depart(gql, distribution_key, trip, "SRC01", ["TN-1", "TN-2"])
    arrive(gql, distribution_key, trip, "DST01", ["TN-1", "TN-2"])
    assert stock(gql, staff, "SRC01") == []
    assert stock(gql, staff, "DST01") == ["TN-1", "TN-2"]


def test_an_arrival_takes_items_out_of_any_other_center(gql, staff, distribution_key, centers):
    """An item is at most at one center, even when its departure was never recorded."""
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1", "TN-2"])
    arrive(gql, distribution_key, uuid.uuid4(), "DST01", ["TN-1"])
    assert stock(gql, staff, "SRC01") == ["TN-2"]
    assert stock(gql, staff, "DST01") == ["TN-1"]
    assert emitted("ArrivalRecorded")[-1]["movedFrom"] == {"SRC01": 1}


def test_a_late_departure_does_not_remove_items_that_already_arrived_elsewhere(
    gql, staff, distribution_key, centers
):
    """Events may arrive out of order: a departure only takes items out of its own center."""
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1"])
    trip = uuid.uuid4()
    arrive(gql, distribution_key, trip, "DST01", ["TN-1"])
    depart(gql, distribution_key, trip, "SRC01", ["TN-1"])
    assert stock(gql, staff, "DST01") == ["TN-1"]
    assert emitted("DepartureRecorded")[-1]["leftInventoryCount"] == 0


def test_departure_of_items_never_recorded_at_the_center_is_fine(gql, distribution_key, centers):
    result = depart(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-9"])
    assert payload_errors(result, "recordDeparture") == []
    assert emitted("DepartureRecorded")[0]["leftInventoryCount"] == 0


@pytest.mark.parametrize("record", [arrive, depart])
def test_unknown_center_is_a_typed_error_and_writes_nothing(gql, distribution_key, centers, record):
    result = record(gql, distribution_key, uuid.uuid4(), "NOPE01", ["TN-1"])
    mutation = "recordArrival" if record is arrive else "recordDeparture"
    assert [(e["field"], e["code"]) for e in payload_errors(result, mutation)] == [
        ("centerCode", "UNKNOWN_CENTER")
    ]
    assert emitted("ArrivalRecorded") == emitted("DepartureRecorded") == []


def test_the_same_transport_arriving_elsewhere_is_a_conflict(gql, staff, distribution_key, centers):
    transport = uuid.uuid4()
    arrive(gql, distribution_key, transport, "DST01", ["TN-1"])
    result = arrive(gql, distribution_key, transport, "SRC01", ["TN-1"])
    assert error_codes(result, "recordArrival") == ["MOVEMENT_CONFLICT"]
    assert stock(gql, staff, "SRC01") == []
    assert len(emitted("ArrivalRecorded")) == 1


def test_too_many_tracking_numbers_is_a_typed_error_without_a_partial_write(
    gql, staff, distribution_key, centers
):
    numbers = [f"TN-{n}" for n in range(10_000)]
    assert len(numbers) > MAX_ITEMS_PER_MOVEMENT
    result = arrive(gql, distribution_key, uuid.uuid4(), "DST01", numbers)
    assert error_codes(result, "recordArrival") == ["TOO_MANY_TRACKING_NUMBERS"]
    assert stock(gql, staff, "DST01") == []
    assert emitted("ArrivalRecorded") == []


def test_the_largest_allowed_movement_is_recorded(gql, staff, distribution_key, centers):
    numbers = [f"TN-{n}" for n in range(MAX_ITEMS_PER_MOVEMENT)]
    result = arrive(gql, distribution_key, uuid.uuid4(), "DST01", numbers)
    assert payload_errors(result, "recordArrival") == []
    count = gql('{ distributionCenter(centerCode: "DST01") { inventoryCount } }', as_=staff)
    assert count["data"]["distributionCenter"]["inventoryCount"] == MAX_ITEMS_PER_MOVEMENT


@pytest.mark.parametrize("bad", ["", "   ", "TN 1", "x" * 33, "TN;DROP"])
def test_malformed_tracking_numbers_are_refused_and_nothing_is_written(
    gql, staff, distribution_key, centers, bad
):
    result = arrive(gql, distribution_key, uuid.uuid4(), "DST01", ["TN-1", bad])
    assert [(e["field"], e["code"]) for e in payload_errors(result, "recordArrival")] == [
        ("trackingNumbers", "INVALID_TRACKING_NUMBER")
    ]
    assert stock(gql, staff, "DST01") == []


def test_duplicate_tracking_numbers_count_once(gql, staff, distribution_key, centers):
    arrive(gql, distribution_key, uuid.uuid4(), "DST01", ["TN-1", "TN-1", " TN-1 "])
    assert stock(gql, staff, "DST01") == ["TN-1"]
    assert emitted("ArrivalRecorded")[0]["trackingNumbers"] == ["TN-1"]


def test_a_malformed_transport_uuid_is_a_coded_error(gql, distribution_key, centers):
    result = gql(
        ARRIVAL,
        {"transport": "nope", "code": "DST01", "numbers": ["TN-1"]},
        as_=distribution_key,
        expect_errors=True,
    )
    assert result.error_codes == ["BAD_USER_INPUT"]


# --- attack: a DISTRIBUTION key writing inventory nobody announced --------------------------------


def test_a_key_cannot_fill_a_center_with_an_arrival_nobody_announced(
    gql, staff, distribution_key, centers
):
    result = arrive(gql, distribution_key, uuid.uuid4(), "DST01", ["TN-1"], announced=False)
    assert payload_errors(result, "recordArrival")[0]["field"] == "transportUuid"
    assert error_codes(result, "recordArrival") == ["MOVEMENT_NOT_ANNOUNCED"]
    assert stock(gql, staff, "DST01") == [] and emitted("ArrivalRecorded") == []


def test_a_key_cannot_empty_a_center_with_a_departure_nobody_announced(
    gql, staff, distribution_key, centers
):
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1", "TN-2"])
    result = depart(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1"], announced=False)
    assert error_codes(result, "recordDeparture") == ["MOVEMENT_NOT_ANNOUNCED"]
    assert stock(gql, staff, "SRC01") == ["TN-1", "TN-2"] and emitted("DepartureRecorded") == []


def test_an_announced_movement_is_recorded_only_as_announced(gql, staff, distribution_key, centers):
    """An announced transport does not open the door wider: not at another center, not with other
    items, not as the other kind of movement; no refusal tells what was announced."""
    transport = uuid.uuid4()
    announce("ARRIVAL", transport, "DST01", ["TN-1", "TN-2"])

    def unannounced(record, code, numbers):
        return record(gql, distribution_key, transport, code, numbers, announced=False)

    attempts = {
        "another center": unannounced(arrive, "SRC01", ["TN-1", "TN-2"]),
        "an extra item": unannounced(arrive, "DST01", ["TN-1", "TN-2", "TN-9"]),
        "fewer items": unannounced(arrive, "DST01", ["TN-1"]),
    }
    for name, result in attempts.items():
        assert error_codes(result, "recordArrival") == ["MOVEMENT_NOT_ANNOUNCED"], name
    # The answer does not say what was announced (the center, the items).
    shown = " ".join(
        e["message"] for r in attempts.values() for e in payload_errors(r, "recordArrival")
    )
    assert (
        "TN-" not in shown
        and "DST01" not in payload_errors(attempts["another center"], "recordArrival")[0]["message"]
    )
    as_departure = unannounced(depart, "DST01", ["TN-1", "TN-2"])
    assert error_codes(as_departure, "recordDeparture") == ["MOVEMENT_NOT_ANNOUNCED"]
    assert stock(gql, staff, "SRC01") == stock(gql, staff, "DST01") == []

    # The announced arrival itself goes through (in any order, blanks trimmed), and a replay of it
    # is still the no-op it always was, after the announcement is used up.
    exact = arrive(gql, distribution_key, transport, "dst01", [" TN-2", "TN-1"], announced=False)
    assert payload_errors(exact, "recordArrival") == []
    replay = arrive(gql, distribution_key, transport, "DST01", ["TN-1", "TN-2"], announced=False)
    assert replay["data"]["recordArrival"]["alreadyRecorded"] is True
    assert stock(gql, staff, "DST01") == ["TN-1", "TN-2"]
    assert len(emitted("ArrivalRecorded")) == 1
    assert not AnnouncedMovement.objects.exists()


def test_a_departure_is_recorded_only_from_the_announced_source(
    gql, staff, distribution_key, centers
):
    arrive(gql, distribution_key, uuid.uuid4(), "SRC01", ["TN-1"])
    arrive(gql, distribution_key, uuid.uuid4(), "DST01", ["TN-5"])
    transport = uuid.uuid4()
    announce("DEPARTURE", transport, "SRC01", ["TN-1"])
    elsewhere = depart(gql, distribution_key, transport, "DST01", ["TN-5"], announced=False)
    assert error_codes(elsewhere, "recordDeparture") == ["MOVEMENT_NOT_ANNOUNCED"]
    assert stock(gql, staff, "DST01") == ["TN-5"]
    ok = depart(gql, distribution_key, transport, "SRC01", ["TN-1"], announced=False)
    assert payload_errors(ok, "recordDeparture") == []
    assert stock(gql, staff, "SRC01") == []
