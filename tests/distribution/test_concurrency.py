"""Races the row locks settle (PostgreSQL: SQLite serialises writers anyway)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from modules.distribution import api as distribution_api
from modules.distribution import services
from modules.distribution.models import CenterInventoryItem, DistributionCenter
from tests.distribution.factories import announce, emitted, make_center

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except ValidationError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_deliveries_of_one_arrival_record_it_once():
    make_center("DST01")
    transport = uuid.uuid4()
    announce("ARRIVAL", transport, "DST01", ["TN-1", "TN-2"])

    def deliver() -> bool:
        return services.arrival_record(
            transport_uuid=transport, center_code="DST01", tracking_numbers=["TN-1", "TN-2"]
        ).already_recorded

    outcomes = race(deliver, deliver, deliver, deliver)
    assert sorted(outcomes) == [False, True, True, True]
    assert len(emitted("ArrivalRecorded")) == 1
    assert CenterInventoryItem.objects.count() == 2


def test_concurrent_arrivals_of_one_item_leave_it_at_one_center():
    make_center("AAA01")
    make_center("BBB01")

    def arrive(code: str) -> Callable[[], Any]:
        transport = uuid.uuid4()
        announce("ARRIVAL", transport, code, ["TN-1"])
        return lambda: services.arrival_record(
            transport_uuid=transport, center_code=code, tracking_numbers=["TN-1"]
        )

    race(arrive("AAA01"), arrive("BBB01"))
    assert CenterInventoryItem.objects.filter(tracking_number="TN-1").count() == 1


@pytest.mark.parametrize("round_", range(3))
def test_a_claim_and_a_delete_never_both_succeed(round_):
    make_center("SRC01")

    def claim() -> Any:
        with transaction.atomic():
            return distribution_api.claim_centers(["SRC01"], holder=f"transport:{uuid.uuid4()}")

    def delete() -> Any:
        return services.center_delete(center_code="SRC01")

    claimed, deleted = race(claim, delete)
    claim_won = not isinstance(claimed, ValidationError)
    delete_won = not isinstance(deleted, ValidationError)
    assert claim_won != delete_won
    if claim_won:
        assert deleted.error_dict["center_code"][0].code == "CENTER_IN_USE"
        assert DistributionCenter.objects.filter(center_code="SRC01").exists()
    else:
        assert claimed.code == "UNKNOWN_CENTER"
