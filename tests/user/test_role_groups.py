"""The staff role in the Django admin: the demo staff account signs in to /admin/ and finds the
shipping and distribution admins it works with, not the superuser's (API keys, sessions); a
driver does not get in, and staff outside the group see nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from modules.shipping.management.commands import seed_demo
from modules.user import api as user_api
from modules.user.models import User
from modules.user.services import STAFF_GROUP, role_groups_ensure
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db

NOTHING = "You don\u2019t have permission to view or edit anything"  # Django's curly apostrophe


def admin_as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def demo_staff() -> User:
    uuid = user_api.demo_staff_ensure(
        username=seed_demo.DEMO_STAFF_USERNAME,
        password=seed_demo.DEMO_STAFF_PASSWORD,
        full_name="Demo Staff",
    )
    return User.objects.get(uuid=uuid)


def test_migrate_makes_the_staff_group_with_its_admin_permissions():
    group = Group.objects.get(name=STAFF_GROUP)  # made by post_migrate, before any seed
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"add_transport", "change_shippingitem", "delete_shippingbatch"} <= codenames
    assert {"add_distributioncenter", "view_user", "view_outboxevent"} <= codenames
    assert not {"add_user", "change_user", "delete_user", "add_apikey", "view_apikey"} & codenames


def test_demo_staff_sees_and_opens_the_admins_of_its_role():
    client = admin_as(demo_staff())
    index = client.get("/admin/").content.decode()
    assert NOTHING not in index
    for name in ("Transports", "Shipping items", "Distribution centers"):
        assert name in index, name
    assert client.get("/admin/shipping/transport/").status_code == 200
    assert client.get("/admin/shipping/shippingitem/add/").status_code == 200
    assert client.get("/admin/distribution/distributioncenter/").status_code == 200


def test_demo_staff_does_not_reach_what_only_superusers_do():
    client = admin_as(demo_staff())
    assert "Api keys" not in client.get("/admin/").content.decode()
    assert client.get("/admin/majestic_auth/apikey/").status_code == 403
    assert client.get("/admin/user/user/add/").status_code == 403


def test_staff_outside_the_group_see_nothing_and_drivers_do_not_get_in():
    assert NOTHING in admin_as(make_staff()).get("/admin/").content.decode()
    response = admin_as(make_driver()).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_ensuring_again_keeps_what_a_superuser_added():
    from django.contrib.auth.models import Permission

    group = role_groups_ensure()
    extra = Permission.objects.get(codename="view_apikey")
    group.permissions.add(extra)
    assert extra in role_groups_ensure().permissions.all()
    assert Group.objects.filter(name=STAFF_GROUP).count() == 1
