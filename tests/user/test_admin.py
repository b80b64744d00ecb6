"""Admin: ban and unregister through the services (one event each); users are never deleted.

Attack-style tests act as a staff member granted only `user.view_user` + `user.change_user` (what
an outside review found was enough to become superuser) and check, after the real admin POST, that
nothing a superuser alone may do was done.
"""

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from modules.auth.models import ApiKey
from modules.auth.services import api_key_create
from modules.user.api import user_access_changed
from modules.user.models import User
from tests.auth.flows import events_of
from tests.factories import make_driver, make_staff, make_superuser, make_user

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


# --- privileges: only a superuser changes them, through the user service ----------------------

PASSWORD = "a-long-staff-passw0rd"


def permission(label):
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(user, *labels):
    user.user_permissions.add(*(permission(label) for label in labels))
    return user


@pytest.fixture
def limited_client(client):
    """Logged in as staff with only the view and change permissions on users."""
    staff = grant(make_staff(password=PASSWORD), "user.view_user", "user.change_user")
    client.force_login(staff)
    client.admin = staff
    return client


@pytest.fixture
def access_changes():
    """The uuids `user_access_changed` was sent for, in order."""
    sent = []

    def receiver(sender, *, user_uuid, **kwargs):
        sent.append(user_uuid)

    user_access_changed.connect(receiver, dispatch_uid="test_admin.access_changes")
    yield sent
    user_access_changed.disconnect(dispatch_uid="test_admin.access_changes")


def change_form(user, **fields):
    """The change form of `user` as it stands (flags, groups, profile), with `fields` changed;
    a field given as None is left out (an unticked box)."""
    user = User.objects.get(pk=user.pk)
    prefix = "driver_profile" if user.type == "DRIVER" else "staff_profile"
    data = {
        "username": user.username,
        "phone_number": user.phone_number or "",
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1",
        f"{prefix}-0-id": user.profile.pk,
        f"{prefix}-0-user": user.pk,
        f"{prefix}-0-full_name": user.profile.full_name,
    }
    data.update(
        {flag: "on" for flag in ("is_active", "is_staff", "is_superuser") if getattr(user, flag)}
    )
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def post_change(client, user, **fields):
    return client.post(f"{CHANGELIST}{user.pk}/change/", change_form(user, **fields))


def test_staff_cannot_make_themselves_superuser(limited_client):
    me = limited_client.admin
    response = post_change(limited_client, me, username="renamed", is_superuser="on")
    assert response.status_code == 302  # saved: the rest of the form went through
    me.refresh_from_db()
    assert me.username == "renamed"
    assert not me.is_superuser


def test_staff_sees_privileges_read_only(limited_client):
    page = limited_client.get(f"{CHANGELIST}{limited_client.admin.pk}/change/").content.decode()
    for field in ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page
    assert 'name="phone_number"' not in page


@pytest.mark.parametrize("kind", ["driver", "plain staff-type user"])
def test_staff_cannot_make_others_staff_or_superuser(limited_client, kind):
    target = make_driver() if kind == "driver" else make_user(type="STAFF")
    post_change(limited_client, target, is_staff="on", is_superuser="on")
    target.refresh_from_db()
    assert not target.is_staff and not target.is_superuser


def test_staff_cannot_join_a_group(limited_client):
    admins = Group.objects.create(name="admins")
    admins.permissions.add(permission("majestic_auth.change_apikey"))
    me = limited_client.admin
    post_change(limited_client, me, groups=[admins.pk])
    assert not me.groups.exists()
    assert not User.objects.get(pk=me.pk).has_perm("majestic_auth.change_apikey")


def test_staff_cannot_grant_themselves_permissions(limited_client):
    me = limited_client.admin
    wanted = [permission("user.add_user").pk, permission("majestic_auth.change_apikey").pk]
    post_change(limited_client, me, user_permissions=wanted)
    assert set(me.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
    }


def test_staff_cannot_deactivate_a_user(limited_client):
    target = make_driver()
    post_change(limited_client, target, is_active=None)
    assert User.objects.get(pk=target.pk).is_active


@pytest.mark.parametrize("as_superuser", [False, True])
def test_nobody_changes_a_phone_number_in_the_admin(client, as_superuser):
    # No verified phone-change flow exists: a changed number would hand over the account.
    actor = (
        make_superuser()
        if as_superuser
        else grant(make_staff(), "user.view_user", "user.change_user")
    )
    client.force_login(actor)
    target = make_driver(phone_number="+821012340001")
    response = post_change(client, target, phone_number="+821012340002")
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).phone_number == "+821012340001"


def test_staff_cannot_add_a_user_with_privileges_or_a_phone_number(limited_client):
    grant(limited_client.admin, "user.add_user")
    admins = Group.objects.create(name="admins")
    response = limited_client.post(
        "/admin/user/user/add/",
        {
            "username": "sneaky",
            "type": "STAFF",
            "phone_number": "+821012340777",
            "password1": "a-long-Sneaky-passw0rd",
            "password2": "a-long-Sneaky-passw0rd",
            "usable_password": "true",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "groups": [admins.pk],
            "user_permissions": [permission("user.change_user").pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="sneaky")
    assert not user.is_staff and not user.is_superuser
    assert not user.groups.exists() and not user.user_permissions.exists()
    assert user.phone_number is None


def test_staff_cannot_ban_a_superuser(limited_client):
    boss = make_superuser()
    response = run_action(limited_client, "ban_users", [boss])
    assert "Only a superuser may ban users." in response.content.decode()
    boss.refresh_from_db()
    assert not boss.banned and boss.is_active and boss.is_superuser
    assert events_of("UserBanned") == []


def test_staff_cannot_ban_anyone(limited_client):
    # As in GraphQL (`banUser` is superuser-only), not only superusers are protected.
    target = make_driver()
    response = run_action(limited_client, "ban_users", [target])
    assert "Only a superuser may ban users." in response.content.decode()
    assert not User.objects.get(pk=target.pk).banned


def test_staff_cannot_unregister_another_user(limited_client):
    target = make_driver()
    response = run_action(limited_client, "unregister_users", [target])
    assert "Only a superuser may close another user&#x27;s account." in response.content.decode()
    target.refresh_from_db()
    assert target.unregistered_at is None and target.is_active
    assert events_of("UserUnregistered") == []


def test_staff_may_unregister_themselves_as_in_graphql(limited_client):
    run_action(limited_client, "unregister_users", [limited_client.admin])
    me = User.objects.get(pk=limited_client.admin.pk)
    assert me.unregistered_at is not None and not me.is_active


def test_staff_cannot_change_a_superusers_account(limited_client):
    boss = make_superuser(username="boss")
    assert limited_client.get(f"{CHANGELIST}{boss.pk}/change/").status_code == 200  # view only
    response = post_change(limited_client, boss, username="pwned")
    assert response.status_code == 403
    assert User.objects.get(pk=boss.pk).username == "boss"


def test_staff_cannot_set_someone_elses_password(limited_client):
    target = make_staff(password="the-old-Passw0rd-stays")
    response = limited_client.post(
        f"{CHANGELIST}{target.pk}/password/",
        {"password1": "a-new-Attacker-passw0rd", "password2": "a-new-Attacker-passw0rd"},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=target.pk).check_password("the-old-Passw0rd-stays")


def test_staff_may_change_their_own_password(limited_client):
    me = limited_client.admin
    response = limited_client.post(
        f"{CHANGELIST}{me.pk}/password/",
        {
            "password1": "a-new-Own-passw0rd",
            "password2": "a-new-Own-passw0rd",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=me.pk).check_password("a-new-Own-passw0rd")


def test_superuser_grants_privileges_and_the_user_is_told(admin_client, access_changes):
    target = make_user(type="STAFF")
    ops = Group.objects.create(name="ops")
    perm = permission("user.view_user")
    response = post_change(
        admin_client, target, is_staff="on", groups=[ops.pk], user_permissions=[perm.pk]
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.is_staff and not target.is_superuser
    assert list(target.groups.all()) == [ops] and list(target.user_permissions.all()) == [perm]
    assert access_changes == [target.uuid]  # one signal for the whole save


def test_superuser_makes_and_unmakes_a_superuser(admin_client, access_changes):
    target = make_staff()
    post_change(admin_client, target, is_superuser="on")
    assert User.objects.get(pk=target.pk).is_superuser
    post_change(admin_client, target, is_superuser=None)
    assert not User.objects.get(pk=target.pk).is_superuser
    assert access_changes == [target.uuid, target.uuid]


def test_superuser_deactivates_a_user_and_their_connections_are_told(admin_client, access_changes):
    target = make_driver()
    post_change(admin_client, target, is_active=None)
    assert not User.objects.get(pk=target.pk).is_active
    assert access_changes == [target.uuid]


def test_saving_without_privilege_changes_sends_no_signal(admin_client, access_changes):
    target = make_staff()
    response = post_change(admin_client, target, username="renamed")
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).username == "renamed"
    assert access_changes == []


def test_superuser_cannot_reactivate_a_banned_user(admin_client, access_changes):
    target = make_driver()
    run_action(admin_client, "ban_users", [target])
    response = post_change(admin_client, target, is_active="on")
    assert response.status_code == 200
    assert "This account is closed." in response.content.decode()
    assert not User.objects.get(pk=target.pk).is_active
    assert access_changes == []


def test_superuser_cannot_give_a_banned_user_groups(admin_client, access_changes):
    target = make_driver()
    run_action(admin_client, "ban_users", [target])
    ops = Group.objects.create(name="ops")
    response = post_change(admin_client, target, groups=[ops.pk])
    assert response.status_code == 200
    assert "This account is closed." in response.content.decode()
    assert not User.objects.get(pk=target.pk).groups.exists()
    assert access_changes == []


def test_superuser_cannot_make_a_driver_staff_and_nothing_is_sent(admin_client, access_changes):
    target = make_driver()
    response = post_change(admin_client, target, is_staff="on")
    assert "Only STAFF users can be staff" in response.content.decode()
    assert not User.objects.get(pk=target.pk).is_staff
    assert access_changes == []


# --- groups: what a group grants is its members' privilege -----------------------------------


def test_staff_with_group_permissions_cannot_change_what_a_group_grants(client):
    staff = grant(make_staff(), "auth.view_group", "auth.change_group", "auth.delete_group")
    ops = Group.objects.create(name="ops")
    staff.groups.add(ops)
    client.force_login(staff)
    response = client.post(
        f"/admin/auth/group/{ops.pk}/change/",
        {"name": "ops", "permissions": [permission("majestic_auth.change_apikey").pk]},
    )
    assert response.status_code == 403
    assert not ops.permissions.exists()
    assert client.post(f"/admin/auth/group/{ops.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=ops.pk).exists()


def test_superuser_changes_a_groups_permissions_and_members_are_told(admin_client, access_changes):
    ops = Group.objects.create(name="ops")
    member = make_staff()
    member.groups.add(ops)
    perm = permission("user.view_user")
    response = admin_client.post(
        f"/admin/auth/group/{ops.pk}/change/", {"name": "ops", "permissions": [perm.pk]}
    )
    assert response.status_code == 302
    assert list(ops.permissions.all()) == [perm]
    assert access_changes == [member.uuid]


def test_superuser_deletes_a_group_and_members_are_told(admin_client, access_changes):
    ops = Group.objects.create(name="ops")
    member = make_staff()
    member.groups.add(ops)
    response = admin_client.post(f"/admin/auth/group/{ops.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Group.objects.filter(pk=ops.pk).exists()
    assert access_changes == [member.uuid]
