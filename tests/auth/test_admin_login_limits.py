"""/admin/login/ under the sign-in limits of signInWithPassword: guessing there is bounded too."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from modules.auth.admin import TOO_MANY_SIGN_INS
from modules.auth.credentials import rate_limit_key
from modules.auth.models import RateLimitWindow
from tests.auth.flows import SIGN_IN_WITH_PASSWORD
from tests.conftest import call_graphql
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Staff-passw0rd"


def admin_login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def limit(settings) -> int:
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 3
    return 3


def test_wrong_passwords_up_to_the_limit_still_let_the_right_one_in(limit):
    make_staff(username="admin1", password=PASSWORD)
    client = Client()
    for _ in range(limit - 1):
        assert admin_login(client, "admin1", "wrong").status_code == 200  # the form again
    response = admin_login(client, "admin1", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_past_the_limit_even_the_right_password_is_refused_with_a_clear_message(limit):
    make_staff(username="admin1", password=PASSWORD)
    client = Client()
    for _ in range(limit):
        wrong = admin_login(client, "admin1", "wrong")
        assert wrong.status_code == 200 and TOO_MANY_SIGN_INS not in wrong.content.decode()
    refused = admin_login(client, "admin1", PASSWORD)
    assert refused.status_code == 200
    assert TOO_MANY_SIGN_INS in refused.content.decode()
    assert not signed_in(client)


def test_the_admin_and_graphql_share_one_count_per_address(limit):
    make_staff(username="admin1", password=PASSWORD)
    client = Client()
    for _ in range(limit):
        admin_login(client, "admin1", "wrong")
    result = call_graphql(
        client, SIGN_IN_WITH_PASSWORD, {"username": "admin1", "password": PASSWORD}
    )
    errors = result["data"]["signInWithPassword"]["errors"]
    assert [e["code"] for e in errors] == ["RATE_LIMITED"]


def test_a_successful_admin_sign_in_gives_the_username_slots_back(settings):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 100
    settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = 2
    make_staff(username="admin1", password=PASSWORD)
    for _ in range(3):  # more successes than the username's failure limit
        client = Client()
        assert admin_login(client, "admin1", PASSWORD).status_code == 302


def test_the_limit_keys_name_no_address_or_username_in_clear(limit):
    make_staff(username="admin1", password=PASSWORD)
    admin_login(Client(REMOTE_ADDR="203.0.113.7"), "admin1", "wrong")
    keys = list(RateLimitWindow.objects.values_list("key", flat=True))
    assert sorted(key.split(":")[1] for key in keys) == ["ip", "user", "user-ip"]
    assert not any("203.0.113.7" in key or "admin1" in key for key in keys)
    # Not a plain digest either: anyone could compute that from a guessed username.
    assert f"sign-in:user:{hashlib.sha256(b'admin1').hexdigest()}" not in keys


def test_limit_keys_are_keyed_by_the_secret_key(settings):
    first = rate_limit_key("sign-in:user", "admin1")
    settings.SECRET_KEY = "another-secret-key-of-enough-length-for-this"
    assert rate_limit_key("sign-in:user", "admin1") != first
    assert rate_limit_key("sign-in:user", "admin2") != rate_limit_key("sign-in:user", "admin1")
