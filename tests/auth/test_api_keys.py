"""API keys: made by superusers or manage.py, shown once, stored hashed, scoped, revocable."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from modules.auth.api import authenticate
from modules.auth.credentials import secret_digest
from modules.auth.models import ApiKey
from modules.auth.services import api_key_revoke
from tests.auth.flows import codes
from tests.factories import make_staff, make_superuser

pytestmark = pytest.mark.django_db

CREATE = """
mutation($name: String!, $scopes: [ApiScope!]!) {
  createApiKey(name: $name, scopes: $scopes) { apiKey errors { field code message } }
}"""


def create(gql, as_, name="heartbeat", scopes=("HEARTBEAT",)):
    return gql(CREATE, {"name": name, "scopes": list(scopes)}, as_=as_)["data"]["createApiKey"]


def test_superuser_creates_a_key_that_authenticates_with_its_scopes(gql):
    payload = create(gql, make_superuser(), scopes=["HEARTBEAT", "DISTRIBUTION"])
    assert payload["errors"] == []
    principal = authenticate(f"Api-Key {payload['apiKey']}")
    assert (
        principal.is_api_key
        and principal.has_scope("HEARTBEAT")
        and principal.has_scope("DISTRIBUTION")
    )
    assert not principal.has_scope("NOTIFICATION") and not principal.is_user
    assert gql("{ __typename }", as_=f"Api-Key {payload['apiKey']}")["data"] == {
        "__typename": "Query"
    }


def test_key_is_stored_only_as_a_digest(gql):
    key = create(gql, make_superuser())["apiKey"]
    row = ApiKey.objects.get()
    assert row.key_digest == secret_digest(key)
    assert key not in str(row.__dict__)
    assert key.startswith(row.prefix + ".")


def test_key_is_shown_once(gql):
    create(gql, make_superuser())
    assert "apiKey" not in str(ApiKey.objects.values().get())


@pytest.mark.parametrize("caller", ["anonymous", "staff"])
def test_only_a_superuser_may_create_keys(gql, caller):
    payload = create(gql, None if caller == "anonymous" else make_staff())
    assert codes(payload) == (["UNAUTHENTICATED"] if caller == "anonymous" else ["FORBIDDEN"])
    assert payload["apiKey"] is None and not ApiKey.objects.exists()


def test_api_key_cannot_create_keys(gql):
    key = create(gql, make_superuser())["apiKey"]
    payload = create(gql, f"Api-Key {key}", name="another")
    assert codes(payload) == ["FORBIDDEN"]


def test_duplicate_name_is_a_typed_error(gql):
    admin = make_superuser()
    create(gql, admin)
    assert codes(create(gql, admin)) == ["API_KEY_NAME_TAKEN"]


def test_empty_scopes_and_blank_name_are_refused(gql):
    admin = make_superuser()
    assert codes(create(gql, admin, scopes=[])) == ["INVALID"]
    assert codes(create(gql, admin, name="  ")) == ["INVALID"]
    assert not ApiKey.objects.exists()


def test_unknown_scope_is_a_graphql_validation_error(gql):
    result = gql(
        CREATE, {"name": "x", "scopes": ["EVERYTHING"]}, as_=make_superuser(), expect_errors=True
    )
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


@pytest.mark.parametrize("presented", ["nope", "abc.def", "", "0123456789ab.wrong-secret"])
def test_unknown_api_key_is_401(gql, presented):
    create(gql, make_superuser())
    result = gql("{ __typename }", as_=f"Api-Key {presented}", expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]


def test_right_prefix_with_a_wrong_secret_is_401(gql):
    key = create(gql, make_superuser())["apiKey"]
    result = gql("{ __typename }", as_=f"Api-Key {key[:-2]}xx", expect_errors=True)
    assert result.status_code == 401


def test_revoked_key_is_401(gql):
    key = create(gql, make_superuser())["apiKey"]
    api_key_revoke(name="heartbeat")
    assert gql("{ __typename }", as_=f"Api-Key {key}", expect_errors=True).status_code == 401


def test_use_is_recorded(gql):
    key = create(gql, make_superuser())["apiKey"]
    assert ApiKey.objects.get().last_used_at is None
    gql("{ __typename }", as_=f"Api-Key {key}")
    assert ApiKey.objects.get().last_used_at is not None


def test_management_command_prints_a_working_key():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key",
        "distribution-fn",
        "--scope",
        "HEARTBEAT",
        "--scope",
        "DISTRIBUTION",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()
    principal = authenticate(f"Api-Key {key}")
    assert principal.api_key_name == "distribution-fn"
    assert principal.scopes == frozenset({"HEARTBEAT", "DISTRIBUTION"})
    assert key not in err.getvalue()


def test_management_command_refuses_a_taken_name():
    call_command(
        "create_api_key", "hb", "--scope", "HEARTBEAT", stdout=io.StringIO(), stderr=io.StringIO()
    )
    with pytest.raises(CommandError, match="exists"):
        call_command(
            "create_api_key",
            "hb",
            "--scope",
            "HEARTBEAT",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
