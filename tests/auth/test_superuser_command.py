"""`createsuperuser --noinput` from DJANGO_SUPERUSER_* variables: a profile and a usable login."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from modules.user.models import StaffProfile, User
from tests.auth.flows import SIGN_IN_WITH_PASSWORD

pytestmark = pytest.mark.django_db


def create_superuser(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    call_command("createsuperuser", "--noinput", stdout=io.StringIO(), stderr=io.StringIO())


def test_createsuperuser_noinput_makes_a_staff_superuser_with_a_profile(monkeypatch, gql):
    create_superuser(
        monkeypatch,
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD="a-long-admin-passw0rd",
        DJANGO_SUPERUSER_PHONE_NUMBER="+82 10-1234-5000",
    )
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.type == "STAFF"
    assert admin.phone_number == "+821012345000", "normalised to E.164"
    assert StaffProfile.objects.filter(user=admin).exists()
    payload = gql(SIGN_IN_WITH_PASSWORD, {"username": "admin", "password": "a-long-admin-passw0rd"})
    assert payload["data"]["signInWithPassword"]["errors"] == []


def test_createsuperuser_refuses_a_malformed_phone_number(monkeypatch):
    with pytest.raises(CommandError):
        create_superuser(
            monkeypatch,
            DJANGO_SUPERUSER_USERNAME="admin",
            DJANGO_SUPERUSER_PASSWORD="a-long-admin-passw0rd",
            DJANGO_SUPERUSER_PHONE_NUMBER="not-a-number",
        )
    assert not User.objects.exists()
