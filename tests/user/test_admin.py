"""Admin: ban and unregister through the services (one event each); users are never deleted."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from modules.auth.models import ApiKey
from modules.auth.services import api_key_create
from modules.user.models import User
from tests.auth.flows import events_of
from tests.factories import make_driver, make_superuser

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/user/user/"


@pytest.fixture
def admin_client(client):
    admin = make_superuser(password="a-long-admin-passw0rd")
    client.force_login(admin)
    client.admin = admin
    return client


def run_action(client, action, users):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [u.pk for u in users]}, follow=True
    )


# Defect 14.9: admin actions emitted the user events a second time, in another shape.
def test_ban_action_bans_through_the_service_with_one_event(admin_client):
    target = make_driver(phone_number="+821099999999")
    response = run_action(admin_client, "ban_users", [target])
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.banned and target.phone_number is None and target.banned_phone_digest
    [event] = events_of("UserBanned")
    assert event["data"] == {"userUuid": str(target.uuid), "userType": "DRIVER"}


def test_unregister_action_with_one_event(admin_client):
    target = make_driver()
    run_action(admin_client, "unregister_users", [target])
    target.refresh_from_db()
    assert target.unregistered_at is not None and not target.is_active
    assert len(events_of("UserUnregistered")) == 1


def test_ban_action_refuses_banning_yourself_with_a_message(admin_client):
    response = run_action(admin_client, "ban_users", [admin_client.admin])
    assert response.status_code == 200
    assert "cannot ban yourself" in response.content.decode()
    assert not User.objects.get(pk=admin_client.admin.pk).banned


def test_users_cannot_be_deleted_in_admin(admin_client):
    target = make_driver()
    request = RequestFactory().get(CHANGELIST)
    request.user = admin_client.admin
    model_admin = site._registry[User]
    assert not model_admin.has_delete_permission(request, target)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert admin_client.post(f"{CHANGELIST}{target.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=target.pk).exists()


def test_user_list_and_search_render(admin_client):
    make_driver(username="findme", full_name="Searchable Person")
    response = admin_client.get(CHANGELIST, {"q": "Searchable"})
    assert response.status_code == 200 and "findme" in response.content.decode()


def test_adding_a_user_in_admin_creates_the_profile(admin_client):
    response = admin_client.post(
        "/admin/user/user/add/",
        {
            "username": "newdriver",
            "type": "DRIVER",
            "phone_number": "+821012340777",
            "password1": "a-long-Driver-passw0rd",
            "password2": "a-long-Driver-passw0rd",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newdriver")
    assert user.profile is not None and user.type == "DRIVER"


def test_driver_cannot_be_made_staff_in_admin(admin_client):
    target = make_driver()
    response = admin_client.post(
        f"{CHANGELIST}{target.pk}/change/",
        {
            "username": target.username,
            "phone_number": target.phone_number,
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "driver_profile-TOTAL_FORMS": "1",
            "driver_profile-INITIAL_FORMS": "1",
            "driver_profile-MIN_NUM_FORMS": "0",
            "driver_profile-MAX_NUM_FORMS": "1",
            "driver_profile-0-id": target.driver_profile.pk,
            "driver_profile-0-user": target.pk,
            "driver_profile-0-full_name": "x",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "Only STAFF users can be staff" in response.content.decode()
    assert not User.objects.get(pk=target.pk).is_staff


def test_api_keys_are_listed_without_their_secrets(admin_client):
    key = api_key_create(name="heartbeat", scopes=["HEARTBEAT"]).key
    response = admin_client.get("/admin/majestic_auth/apikey/")
    assert response.status_code == 200 and "heartbeat" in response.content.decode()
    assert key not in response.content.decode()
    assert admin_client.get("/admin/majestic_auth/apikey/add/").status_code == 403


def test_api_key_revoke_action(admin_client):
    api_key_create(name="heartbeat", scopes=["HEARTBEAT"])
    admin_client.post(
        "/admin/majestic_auth/apikey/",
        {"action": "revoke", "_selected_action": [ApiKey.objects.get().pk]},
    )
    assert ApiKey.objects.get().revoked_at is not None
