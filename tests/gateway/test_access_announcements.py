"""schema.access: the modules' access signals become live announcements, after commit only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from events import fanout
from modules.auth import services as auth_services
from modules.auth.models import ApiKey
from modules.user import services as user_services
from tests.factories import make_staff, make_superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(fanout, "publish_access_changed", lambda **kwargs: sent.append(kwargs))
    return sent


def test_a_ban_is_announced_once_committed(announced, django_capture_on_commit_callbacks):
    superuser, user = make_superuser(), make_staff()
    auth_services.session_start(user_uuid=user.uuid)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_services.user_ban(user_uuid=user.uuid, banned_by_uuid=superuser.uuid)
    assert announced == []  # nothing before the commit: a re-check then would see no ban
    for callback in callbacks:
        callback()
    # user_deactivated, and the revoked sessions: the user, never anything secret.
    assert announced and all(a == {"user_uuid": user.uuid, "api_key_name": None} for a in announced)


def test_a_rolled_back_change_is_not_announced(announced, django_capture_on_commit_callbacks):
    user = make_staff()
    session = auth_services.session_start(user_uuid=user.uuid)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        auth_services.session_sign_out(refresh_token=session.refresh_token, user_uuid=user.uuid)
        transaction.set_rollback(True)
    assert announced == []


def test_a_revoked_api_key_is_announced_by_name(announced, django_capture_on_commit_callbacks):
    created = auth_services.api_key_create(name="ops-robot", scopes=["HEARTBEAT"])
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.api_key_revoke(name=created.name)
    assert announced == [{"user_uuid": None, "api_key_name": "ops-robot"}]


def test_a_failed_announcement_does_not_fail_the_change(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs: Any) -> None:
        raise ConnectionError("the channel layer is away")

    monkeypatch.setattr(fanout, "publish_access_changed", broken)
    created = auth_services.api_key_create(name="ops-robot", scopes=["HEARTBEAT"])
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.api_key_revoke(name=created.name)
    # Revoked all the same; open sockets are left to their periodic check.
    assert ApiKey.objects.get(name="ops-robot").revoked_at is not None
