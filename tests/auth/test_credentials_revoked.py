"""`credentials_revoked`: auth says whose credentials stopped working early, never a secret.

The gateway listens (schema.access) to close their open websockets at once; see
tests/live/test_access_changes.py for that end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from modules.auth import services
from modules.auth.api import credentials_revoked
from modules.auth.models import RefreshTokenFamily
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoked() -> Iterator[list[dict[str, Any]]]:
    """The (user_uuid, api_key_name) of every credentials_revoked sent during the test."""
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append(
            {"user_uuid": kwargs.get("user_uuid"), "api_key_name": kwargs.get("api_key_name")}
        )

    credentials_revoked.connect(receiver, dispatch_uid="test.credentials_revoked")
    yield sent
    credentials_revoked.disconnect(dispatch_uid="test.credentials_revoked")


def test_signing_out_names_the_sessions_user(revoked):
    user = make_staff()
    session = services.session_start(user_uuid=user.uuid)
    services.session_sign_out(refresh_token=session.refresh_token, user_uuid=user.uuid)
    assert revoked == [{"user_uuid": user.uuid, "api_key_name": None}]


def test_revoking_sessions_names_each_user_once(revoked):
    first, second = make_staff(), make_staff()
    sessions = [services.session_start(user_uuid=u.uuid) for u in (first, first, second)]
    families = RefreshTokenFamily.objects.filter(
        user_uuid__in=[first.uuid, second.uuid]
    ).values_list("uuid", flat=True)
    assert len(sessions) == 3
    assert services.sessions_revoke(session_uuids=list(families), reason="admin") == 3
    named = sorted(str(r["user_uuid"]) for r in revoked)
    assert named == sorted([str(first.uuid), str(second.uuid)])
    # Nothing was still open the second time: nothing to announce.
    revoked.clear()
    assert services.sessions_revoke(session_uuids=list(families), reason="admin") == 0
    assert revoked == []


def test_revoking_all_of_a_users_sessions_names_them_when_any_was_open(revoked):
    user = make_staff()
    assert services.sessions_revoke_all(user_uuid=user.uuid, reason="banned") == 0
    assert revoked == []
    services.session_start(user_uuid=user.uuid)
    assert services.sessions_revoke_all(user_uuid=user.uuid, reason="banned") == 1
    assert revoked == [{"user_uuid": user.uuid, "api_key_name": None}]


def test_a_reused_refresh_token_names_the_user_whose_session_it_ended(revoked):
    user = make_staff()
    session = services.session_start(user_uuid=user.uuid)
    services.refresh_token_rotate(refresh_token=session.refresh_token)
    assert revoked == []
    with pytest.raises(ValidationError):
        services.refresh_token_rotate(refresh_token=session.refresh_token)
    assert revoked == [{"user_uuid": user.uuid, "api_key_name": None}]


def test_revoking_an_api_key_names_the_key_once(revoked):
    created = services.api_key_create(name="relay", scopes=["EVENTS"])
    services.api_key_revoke(name=created.name)
    services.api_key_revoke(name=created.name)  # already revoked: nothing new to say
    assert revoked == [{"user_uuid": None, "api_key_name": "relay"}]
    assert created.key not in repr(revoked)
