"""`manage.py seed_demo`: demo users, centers and shipping data in every state, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from events.models import OutboxEvent
from modules.shipping.management.commands import seed_demo
from modules.shipping.models import BatchMembership, ShippingBatch, ShippingItem, Transport
from modules.user import api as user_api

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        ShippingItem.objects.count(),
        ShippingBatch.objects.count(),
        Transport.objects.count(),
        BatchMembership.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_the_default_demo_has_every_state_and_prints_how_to_sign_in():
    output = run()
    assert set(ShippingItem.objects.values_list("status", flat=True)) == {
        "CREATED",
        "MOVING",
        "COMPLETED",
        "DAMAGED",
        "LOST",
    }
    assert set(Transport.objects.values_list("status", flat=True)) == {
        "CREATED",
        "IN_TRANSIT",
        "ARRIVED",
    }
    assert Transport.objects.filter(status="CREATED", driver_uuid__isnull=True).exists()
    assert ShippingBatch.objects.filter(completed=True).exists()
    assert ShippingBatch.objects.filter(transport__isnull=True).exists()

    assert user_api.staff_uuid_for_password("demo-staff", seed_demo.DEMO_STAFF_PASSWORD) is not None
    for phone, _name, _code in seed_demo.DEMO_DRIVERS:
        driver = user_api.user_uuid_for_phone_number(phone)
        assert driver is not None and user_api.active_driver(driver) is not None
    assert "demo-staff" in output and seed_demo.DEMO_STAFF_PASSWORD in output
    assert 'AUTH_TEST_PHONE_NUMBERS="+15550000001:123456,+15550000002:654321"' in output


def test_the_default_demo_goes_through_the_services_and_their_events():
    run()
    emitted = set(OutboxEvent.objects.values_list("detail_type", flat=True))
    assert {
        "ShippingItemCreated",
        "ItemsAddedToBatch",
        "BatchesAddedToTransport",
        "TransportStarted",
        "TransportCompleted",
    } <= emitted


def test_the_demo_staff_is_staff_and_drivers_see_their_transports(gql):
    run()
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="demo-staff")
    assert (
        gql("{ transports(first: 10) { totalCount } }", as_=staff)["data"]["transports"][
            "totalCount"
        ]
        == 4
    )
    driver_uuid = user_api.user_uuid_for_phone_number("+15550000001")
    assert driver_uuid is not None
    driver = get_user_model().objects.get(uuid=driver_uuid)
    mine = gql("{ transports(first: 10) { totalCount } }", as_=driver)["data"]["transports"][
        "totalCount"
    ]
    assert 0 < mine < 4


def test_running_it_again_adds_nothing():
    run()
    before = counts()
    assert "nothing added" in run()
    assert counts() == before


def test_a_larger_request_tops_the_demo_up():
    run()
    run("--items", "60", "--batches", "10", "--transports", "6")
    assert ShippingItem.objects.filter(sku__startswith="DEMO-").count() == 60
    assert ShippingBatch.objects.filter(alias__startswith="DEMO-").count() == 10
    assert Transport.objects.count() == 6


def test_large_seeds_are_written_in_bulk_and_stay_consistent(monkeypatch):
    monkeypatch.setattr(seed_demo, "BULK_THRESHOLD", 50)
    monkeypatch.setattr(seed_demo, "CHUNK", 70)
    run("--items", "400", "--batches", "30", "--transports", "8")
    assert ShippingItem.objects.count() == 400
    assert ShippingBatch.objects.count() == 30
    assert Transport.objects.count() == 8
    # Bulk rows obey the same invariants the services keep.
    for item in ShippingItem.objects.prefetch_related("memberships__batch__transport"):
        open_memberships = [m for m in item.memberships.all() if m.batch_open]
        assert len(open_memberships) <= 1
        if item.status == "COMPLETED":
            [membership] = item.memberships.all()
            assert membership.batch.transport is not None
            assert membership.batch.transport.status == "ARRIVED"
            assert item.current_center_code == membership.batch.transport.destination_center_code
        elif item.status == "MOVING":
            assert len(open_memberships) == 1
        else:
            assert not item.memberships.exists()
    for transport in Transport.objects.exclude(status="CREATED"):
        assert transport.batches.exists() and transport.driver_uuid is not None
    assert set(ShippingItem.objects.values_list("status", flat=True)) == {
        "CREATED",
        "MOVING",
        "COMPLETED",
        "DAMAGED",
        "LOST",
    }
    assert not OutboxEvent.objects.filter(source__endswith=".shipping").exists()
    run("--items", "400", "--batches", "30", "--transports", "8")
    assert ShippingItem.objects.count() == 400


def test_centers_used_by_seeded_transports_cannot_be_deleted(gql, monkeypatch):
    monkeypatch.setattr(seed_demo, "BULK_THRESHOLD", 10)
    run("--items", "40")
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="demo-staff")
    transport = Transport.objects.first()
    assert transport is not None
    code = transport.source_center_code
    result = gql(
        "mutation($c: String!) { deleteDistributionCenter(centerCode: $c) { errors { code } } }",
        {"c": code},
        as_=staff,
    )
    assert result["data"]["deleteDistributionCenter"]["errors"] == [{"code": "CENTER_IN_USE"}]


def test_it_refuses_to_run_in_production(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError):
        run()
    assert ShippingItem.objects.count() == 0


def test_the_plan_respects_transport_capacity():
    plan = seed_demo.make_plan(1000, 2, 1, drivers=2, capacity=100)
    on_transport = [
        b for b in plan.item_batch if b is not None and plan.batch_transport[b] is not None
    ]
    assert len(on_transport) <= 100


def test_the_plan_bounds_batches_per_transport():
    plan = seed_demo.make_plan(10, 50, 2, drivers=2, capacity=100, batch_capacity=5)
    assert max(plan.batch_transport.count(t) for t in (0, 1)) == 5
