"""The admin changes distribution data only through the services (validated, with events)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from modules.distribution.models import CenterStaffMember, DistributionCenter
from tests.distribution.factories import emitted, make_center, record_arrival
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "page",
    [
        "distributioncenter",
        "centerstaffmember",
        "centerreference",
        "centerinventoryitem",
        "transportmovement",
    ],
)
def test_every_admin_list_renders(admin_client, page):
    make_center("ABC001")
    assert admin_client.get(f"/admin/distribution/{page}/").status_code == 200


def test_center_change_page_lists_staff_and_tolerates_missing_users(admin_client):
    center = make_center("ABC001")
    member = make_staff(full_name="Alice Admin")
    CenterStaffMember.objects.create(center=center, user_uuid=member.uuid)
    member.delete()
    response = admin_client.get(f"/admin/distribution/distributioncenter/{center.pk}/change/")
    assert response.status_code == 200
    assert b"unknown user" in response.content


def test_adding_a_center_in_the_admin_goes_through_the_service(admin_client):
    response = admin_client.post(
        "/admin/distribution/distributioncenter/add/",
        {"center_code": "adm-01", "name": "Admin made"},
    )
    assert response.status_code == 302
    assert DistributionCenter.objects.get().center_code == "ADM-01"
    assert [e["centerCode"] for e in emitted("DistributionCenterCreated")] == ["ADM-01"]


def test_an_invalid_center_code_is_a_form_error(admin_client):
    response = admin_client.post(
        "/admin/distribution/distributioncenter/add/", {"center_code": "x", "name": "X"}
    )
    assert response.status_code == 200
    assert not DistributionCenter.objects.exists()


def test_the_center_code_is_read_only_on_change(admin_client):
    center = make_center("ABC001", "Before")
    admin_client.post(
        f"/admin/distribution/distributioncenter/{center.pk}/change/",
        {"center_code": "XYZ999", "name": "After"},
    )
    center.refresh_from_db()
    assert (center.center_code, center.name) == ("ABC001", "After")
    assert emitted("DistributionCenterUpdated")[0]["previousName"] == "Before"


def test_adding_a_driver_as_center_staff_in_the_admin_is_refused(admin_client):
    center = make_center("ABC001")
    response = admin_client.post(
        "/admin/distribution/centerstaffmember/add/",
        {"center": center.pk, "user_uuid": str(make_driver().uuid)},
    )
    assert response.status_code == 200
    assert not CenterStaffMember.objects.exists()


def test_adding_staff_in_the_admin_emits_the_change(admin_client):
    center = make_center("ABC001")
    alice = make_staff()
    admin_client.post(
        "/admin/distribution/centerstaffmember/add/",
        {"center": center.pk, "user_uuid": str(alice.uuid)},
    )
    assert list(CenterStaffMember.objects.values_list("user_uuid", flat=True)) == [alice.uuid]
    assert emitted("CenterStaffChanged")[0]["addedUserUuids"] == [str(alice.uuid)]


def test_delete_action_refuses_centers_in_use(admin_client, distribution_key, gql):
    used, unused = make_center("USED01"), make_center("FREE01")
    record_arrival(gql, distribution_key, "USED01", ["TN-1"])
    admin_client.post(
        "/admin/distribution/distributioncenter/",
        {"action": "delete_centers", "_selected_action": [used.pk, unused.pk]},
    )
    assert list(DistributionCenter.objects.values_list("center_code", flat=True)) == ["USED01"]
    assert [e["centerCode"] for e in emitted("DistributionCenterDeleted")] == ["FREE01"]


# --- permissions: GraphQL needs staff (every admin user is); the admin also needs the Django
# permission its own delete page needs ---------------------------------------------------------


def staff_with(client, *codenames):
    staff = make_staff()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="distribution", codename__in=codenames)
    )
    client.force_login(staff)
    return client


def test_staff_without_delete_permission_cannot_delete_centers(client):
    viewer = staff_with(client, "view_distributioncenter", "change_distributioncenter")
    center = make_center("FREE01")
    viewer.post(
        "/admin/distribution/distributioncenter/",
        {"action": "delete_centers", "_selected_action": [center.pk]},
    )
    assert DistributionCenter.objects.filter(pk=center.pk).exists()
    assert emitted("DistributionCenterDeleted") == []


def test_staff_with_delete_permission_deletes_centers_through_the_service(client):
    # Not only superusers: GraphQL's deleteDistributionCenter is open to every staff member.
    deleter = staff_with(client, "view_distributioncenter", "delete_distributioncenter")
    center = make_center("FREE01")
    deleter.post(
        "/admin/distribution/distributioncenter/",
        {"action": "delete_centers", "_selected_action": [center.pk]},
    )
    assert not DistributionCenter.objects.exists()
    assert [e["centerCode"] for e in emitted("DistributionCenterDeleted")] == ["FREE01"]


def test_staff_without_delete_permission_cannot_remove_center_staff(client):
    viewer = staff_with(client, "view_centerstaffmember", "change_centerstaffmember")
    center = make_center("ABC001")
    member = CenterStaffMember.objects.create(center=center, user_uuid=make_staff().uuid)
    viewer.post(
        "/admin/distribution/centerstaffmember/",
        {"action": "remove_members", "_selected_action": [member.pk]},
    )
    assert CenterStaffMember.objects.filter(pk=member.pk).exists()


def test_staff_with_delete_permission_removes_center_staff_through_the_service(client):
    remover = staff_with(client, "view_centerstaffmember", "delete_centerstaffmember")
    center = make_center("ABC001")
    alice = make_staff()
    member = CenterStaffMember.objects.create(center=center, user_uuid=alice.uuid)
    remover.post(
        "/admin/distribution/centerstaffmember/",
        {"action": "remove_members", "_selected_action": [member.pk]},
    )
    assert not CenterStaffMember.objects.exists()
    assert emitted("CenterStaffChanged")[0]["removedUserUuids"] == [str(alice.uuid)]
