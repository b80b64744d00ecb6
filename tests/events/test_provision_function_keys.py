"""`manage.py provision_function_keys`: the SSM parameters a deploy needs, on moto."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from modules.auth.api import authenticate
from modules.auth.principals import AuthenticationFailed
from tests.events.conftest import aws_client

pytestmark = pytest.mark.django_db


def provision(*arguments: str) -> str:
    out = io.StringIO()
    call_command("provision_function_keys", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def parameter(name: str) -> dict:
    found: dict = aws_client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return found


def test_writes_the_gateway_url_and_a_key_with_exactly_each_functions_scope(moto_server):
    printed = provision(
        "--parameter-prefix", "/majestic-dev", "--gateway-url", "https://api.example.com/graphql/"
    )
    assert parameter("/majestic-dev/gateway-url")["Value"] == "https://api.example.com/graphql/"
    for function, scope in (("distribution", "DISTRIBUTION"), ("heartbeat", "HEARTBEAT")):
        stored = parameter(f"/majestic-dev/api-keys/{function}")
        assert stored["Type"] == "SecureString"
        assert authenticate(f"Api-Key {stored['Value']}").scopes == frozenset({scope})
        assert stored["Value"] not in printed  # the keys are never shown


def test_the_template_defaults_are_the_prod_prefix(moto_server):
    provision()
    assert parameter("/majestic/api-keys/heartbeat")["Value"]
    names = {p["Name"] for p in aws_client("ssm").describe_parameters()["Parameters"]}
    assert "/majestic/gateway-url" not in names  # no --gateway-url: left as it is


def test_a_rotation_revokes_the_replaced_keys_only_when_asked(moto_server):
    provision()
    first = parameter("/majestic/api-keys/distribution")["Value"]
    provision()
    second = parameter("/majestic/api-keys/distribution")["Value"]
    assert second != first
    authenticate(f"Api-Key {first}")  # still valid: running functions may hold it
    provision("--revoke-replaced")
    third = parameter("/majestic/api-keys/distribution")["Value"]
    with pytest.raises(AuthenticationFailed):
        authenticate(f"Api-Key {second}")
    assert authenticate(f"Api-Key {third}").scopes == frozenset({"DISTRIBUTION"})
    authenticate(f"Api-Key {first}")  # not the parameter's key any more: not this run's to revoke


@pytest.mark.parametrize(
    "arguments",
    [
        ["--parameter-prefix", "majestic"],
        ["--parameter-prefix", "/majestic dev"],
        ["--gateway-url", "http://api.example.com/graphql/"],
        ["--gateway-url", "https://"],
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(moto_server, arguments):
    with pytest.raises(CommandError):
        provision(*arguments)
    assert aws_client("ssm").describe_parameters()["Parameters"] == []


def test_when_ssm_cannot_be_reached_no_key_is_left_valid(moto_server, monkeypatch):
    from modules.auth.models import ApiKey

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    moto_server.stop()
    try:
        with pytest.raises(CommandError, match="SSM refused"):
            provision()
    finally:
        moto_server.start_again()
    assert ApiKey.objects.exists()
    assert not ApiKey.objects.filter(revoked_at__isnull=True).exists()  # nobody holds them
