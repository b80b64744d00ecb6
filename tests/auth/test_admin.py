"""Admin for auth: revoking API keys and signing out sessions is a superuser's power, as in GraphQL
(`createApiKey` is superuser-only; `signOut` ends only the caller's own session)."""

import pytest
from django.contrib.auth.models import Permission

from modules.auth.models import ApiKey, RefreshTokenFamily
from modules.auth.services import api_key_create, session_start
from tests.factories import make_driver, make_staff, make_superuser

pytestmark = pytest.mark.django_db

API_KEYS = "/admin/majestic_auth/apikey/"
SESSIONS = "/admin/majestic_auth/refreshtokenfamily/"


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="majestic_auth", codename__in=codenames)
    )
    return user


@pytest.fixture
def key_keeper(client):
    """Staff holding every Django permission on API keys and sessions, but no superuser."""
    staff = grant(
        make_staff(),
        "view_apikey",
        "change_apikey",
        "view_refreshtokenfamily",
        "change_refreshtokenfamily",
    )
    client.force_login(staff)
    return client


def run_action(client, url, action, rows):
    return client.post(
        url, {"action": action, "_selected_action": [row.pk for row in rows]}, follow=True
    )


def test_staff_cannot_revoke_api_keys(key_keeper):
    api_key_create(name="heartbeat", scopes=["HEARTBEAT"])
    key = ApiKey.objects.get()
    page = key_keeper.get(API_KEYS)
    assert page.status_code == 200 and 'value="revoke"' not in page.content.decode()
    response = run_action(key_keeper, API_KEYS, "revoke", [key])
    # No action is offered to them, so Django does not run one.
    assert "Revoked 1 key(s)." not in response.content.decode()
    assert ApiKey.objects.get().revoked_at is None


def test_staff_cannot_create_api_keys_in_the_admin(key_keeper):
    assert key_keeper.get(f"{API_KEYS}add/").status_code == 403
    assert not ApiKey.objects.exists()


def test_superuser_revokes_api_keys(client):
    api_key_create(name="heartbeat", scopes=["HEARTBEAT"])
    client.force_login(make_superuser())
    response = run_action(client, API_KEYS, "revoke", [ApiKey.objects.get()])
    assert "Revoked 1 key(s)." in response.content.decode()
    assert ApiKey.objects.get().revoked_at is not None


def test_staff_cannot_sign_out_other_peoples_sessions(key_keeper):
    victim = make_driver()
    session_start(user_uuid=victim.uuid)
    family = RefreshTokenFamily.objects.get(user_uuid=victim.uuid)
    assert 'value="sign_out"' not in key_keeper.get(SESSIONS).content.decode()
    response = run_action(key_keeper, SESSIONS, "sign_out", [family])
    assert "Signed out 1 session(s)." not in response.content.decode()
    assert RefreshTokenFamily.objects.get(pk=family.pk).revoked_at is None


def test_superuser_signs_out_sessions(client):
    victim = make_driver()
    session_start(user_uuid=victim.uuid)
    family = RefreshTokenFamily.objects.get(user_uuid=victim.uuid)
    client.force_login(make_superuser())
    response = run_action(client, SESSIONS, "sign_out", [family])
    assert "Signed out 1 session(s)." in response.content.decode()
    family.refresh_from_db()
    assert family.revoked_at is not None and family.revoked_reason == "admin"
