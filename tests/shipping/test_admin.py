"""Django admin for shipping: every model browsable, every change made through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from modules.shipping.models import BatchMembership, ShippingBatch, ShippingItem, Transport
from tests.factories import make_staff
from tests.shipping.factories import emitted, make_batch, make_items, make_transport

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", [ShippingItem, ShippingBatch, Transport, BatchMembership])
def test_every_model_has_a_changelist_and_a_detail_page(admin_client, centers, driver, model):
    make_transport(driver=driver, batches=[make_batch(items=make_items(2))], started=True)
    opts = model._meta
    assert (
        admin_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        ).status_code
        == 200
    )
    row = model.objects.first()
    assert (
        admin_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        ).status_code
        == 200
    )


def test_adding_an_item_goes_through_the_service(admin_client):
    response = admin_client.post(reverse("admin:shipping_shippingitem_add"), {"sku": "ADMIN-1"})
    assert response.status_code == 302
    item = ShippingItem.objects.get()
    assert item.sku == "ADMIN-1" and item.tracking_number
    assert [e["tracking_number"] for e in emitted("ShippingItemCreated")] == [item.tracking_number]


def test_adding_a_batch_without_alias_generates_one(admin_client):
    assert (
        admin_client.post(reverse("admin:shipping_shippingbatch_add"), {"alias": ""}).status_code
        == 302
    )
    assert ShippingBatch.objects.get().alias.startswith("B")


def test_a_refused_transport_shows_the_services_error_on_the_form(admin_client, centers):
    response = admin_client.post(
        reverse("admin:shipping_transport_add"),
        {"source_center_code": "ABC001", "destination_center_code": "abc001", "driver_uuid": ""},
    )
    assert response.status_code == 200
    assert "Source and destination must be different centers." in response.content.decode()
    assert Transport.objects.count() == 0


def test_adding_a_transport_claims_its_centers(admin_client, centers):
    response = admin_client.post(
        reverse("admin:shipping_transport_add"),
        {"source_center_code": "ABC001", "destination_center_code": "ABC002", "driver_uuid": ""},
    )
    assert response.status_code == 302
    assert len(emitted("TransportCreated")) == 1


def test_start_and_complete_actions_use_the_services(admin_client, centers, driver):
    ready = make_transport(driver=driver, batches=[make_batch(items=make_items(1))])
    no_driver = make_transport("ABC002", "ABC001", batches=[make_batch()])
    url = reverse("admin:shipping_transport_changelist")
    response = admin_client.post(
        url, {"action": "start", "_selected_action": [ready.pk, no_driver.pk]}, follow=True
    )
    assert "Assign a driver before the transport leaves." in response.content.decode()
    assert Transport.objects.get(pk=ready.pk).status == "IN_TRANSIT"
    assert Transport.objects.get(pk=no_driver.pk).status == "CREATED"
    admin_client.post(url, {"action": "complete", "_selected_action": [ready.pk]})
    assert Transport.objects.get(pk=ready.pk).status == "ARRIVED"
    assert len(emitted("TransportStarted")) == len(emitted("TransportCompleted")) == 1


def test_mark_lost_action_follows_the_state_machine(admin_client, centers, driver):
    fresh, done = make_items(2)
    make_transport(driver=driver, batches=[make_batch(items=[done])], arrived=True)
    url = reverse("admin:shipping_shippingitem_changelist")
    response = admin_client.post(
        url, {"action": "mark_lost", "_selected_action": [fresh.pk, done.pk]}, follow=True
    )
    assert "nothing leaves COMPLETED" in response.content.decode()
    assert ShippingItem.objects.get(pk=fresh.pk).status == "LOST"
    assert ShippingItem.objects.get(pk=done.pk).status == "COMPLETED"


def test_the_change_form_edits_nothing(admin_client):
    item = make_items(1)[0]
    admin_client.post(
        reverse("admin:shipping_shippingitem_change", args=[item.pk]),
        {"sku": "CHANGED", "status": "LOST"},
    )
    item.refresh_from_db()
    assert (item.sku, item.status) == ("SKU-1", "CREATED")


def test_history_cannot_be_deleted_in_the_admin(admin_client, centers):
    transport = make_transport(batches=[make_batch()])
    response = admin_client.post(
        reverse("admin:shipping_transport_delete", args=[transport.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Transport.objects.filter(pk=transport.pk).exists()


# --- permissions: as in GraphQL (staff), plus the admin's own model permissions; already so -----


def staff_with(client, *codenames):
    staff = make_staff()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="shipping", codename__in=codenames)
    )
    client.force_login(staff)
    return client


def test_view_only_staff_cannot_change_item_states(client):
    viewer = staff_with(client, "view_shippingitem")
    item = make_items(1)[0]
    viewer.post(
        reverse("admin:shipping_shippingitem_changelist"),
        {"action": "mark_lost", "_selected_action": [item.pk]},
    )
    assert ShippingItem.objects.get(pk=item.pk).status == "CREATED"


def test_staff_with_change_permission_marks_items_through_the_service(client):
    # Not only superusers: GraphQL's updateShippingItemStatus is open to every staff member.
    changer = staff_with(client, "view_shippingitem", "change_shippingitem")
    item = make_items(1)[0]
    changer.post(
        reverse("admin:shipping_shippingitem_changelist"),
        {"action": "mark_lost", "_selected_action": [item.pk]},
    )
    assert ShippingItem.objects.get(pk=item.pk).status == "LOST"
    assert len(emitted("ShippingItemStatusChanged")) == 1


def test_view_only_staff_cannot_start_transports(client, centers, driver):
    viewer = staff_with(client, "view_transport")
    ready = make_transport(driver=driver, batches=[make_batch(items=make_items(1))])
    viewer.post(
        reverse("admin:shipping_transport_changelist"),
        {"action": "start", "_selected_action": [ready.pk]},
    )
    assert Transport.objects.get(pk=ready.pk).status == "CREATED"
    assert emitted("TransportStarted") == []


def test_staff_without_add_permission_cannot_add_items(client):
    viewer = staff_with(client, "view_shippingitem", "change_shippingitem")
    response = viewer.post(reverse("admin:shipping_shippingitem_add"), {"sku": "NOPE-1"})
    assert response.status_code == 403
    assert not ShippingItem.objects.exists()
