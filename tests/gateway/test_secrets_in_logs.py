"""Secrets a client sends never reach the logs, whatever is wrong with the request.

graphql-core quotes the input it refuses ("Variable '$input' got invalid value {...}"), so a
sign-up with one wrong-typed field used to put its verification code into an INFO line. Here a suite
of malformed requests, each carrying a distinctive secret, runs with every logger at DEBUG, and
whatever was logged is searched for the secrets.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest
from django.test import Client

from tests.auth.flows import REFRESH, SIGN_IN_WITH_PASSWORD, SIGN_OUT, SIGN_UP
from tests.conftest import call_graphql
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

# Random per run, and long enough that none turns up in a log line by chance.
CODE = f"{secrets.randbelow(900_000) + 100_000}"  # six digits, as a real code
PASSWORD = f"pw-{secrets.token_urlsafe(18)}"
REFRESH_TOKEN = secrets.token_urlsafe(32)
BAD_ACCESS_TOKEN = f"eyJhbGciOiJIUzI1NiJ9.{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(24)}"
BAD_API_KEY = f"{secrets.token_hex(6)}.{secrets.token_urlsafe(32)}"
OTHER_SECRET = f"other-{secrets.token_urlsafe(18)}"
# GraphQL names (an enum value, an operation name): letters, digits and underscores only.
ENUM_SECRET = f"WRONG_{secrets.token_hex(12).upper()}"
OPERATION_SECRET = f"Op{secrets.token_hex(12)}"
SECRETS = {
    "code": CODE,
    "password": PASSWORD,
    "refresh token": REFRESH_TOKEN,
    "access token": BAD_ACCESS_TOKEN,
    "api key": BAD_API_KEY,
    "other": OTHER_SECRET,
    "enum literal": ENUM_SECRET,
    "operation name": OPERATION_SECRET,
}

SIGN_UP_INPUT = {
    "phoneNumber": "+15550100077",
    "code": CODE,
    "userType": "DRIVER",
    "fullName": "Ada Lovelace",
}


def sign_in_literal(arguments: str) -> str:
    """A password sign-in with its arguments written into the document."""
    return "mutation SignIn { signInWithPassword(" + arguments + ") { accessToken } }"


# (name, query, variables, extra): each request is wrong in its own way; each carries secrets.
BAD_REQUESTS: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("sign-up: wrong-typed field", SIGN_UP, {"input": {**SIGN_UP_INPUT, "dateOfBirth": 1}}, {}),
    ("sign-up: unknown field", SIGN_UP, {"input": {**SIGN_UP_INPUT, "pin": OTHER_SECRET}}, {}),
    ("sign-up: wrong enum", SIGN_UP, {"input": {**SIGN_UP_INPUT, "userType": "WIZARD"}}, {}),
    ("sign-up: code as a number", SIGN_UP, {"input": {**SIGN_UP_INPUT, "code": int(CODE)}}, {}),
    ("sign-up: input not an object", SIGN_UP, {"input": [CODE, OTHER_SECRET]}, {}),
    ("sign-up: NUL in the code", SIGN_UP, {"input": {**SIGN_UP_INPUT, "code": CODE + "\0"}}, {}),
    ("sign-up: well-typed, wrong code", SIGN_UP, {"input": SIGN_UP_INPUT}, {}),
    (
        "password: as an object",
        SIGN_IN_WITH_PASSWORD,
        {"username": "staff", "password": {"value": PASSWORD}},
        {},
    ),
    (
        "password: as a list",
        SIGN_IN_WITH_PASSWORD,
        {"username": "staff", "password": [PASSWORD]},
        {},
    ),
    (
        "password: username of the wrong type",
        SIGN_IN_WITH_PASSWORD,
        {"username": 7, "password": PASSWORD},
        {},
    ),
    (
        "password: literal list",
        sign_in_literal(f'username: "staff", password: {json.dumps([PASSWORD])}'),
        None,
        {},
    ),
    ("password: literal number", sign_in_literal('username: "staff", password: 12345'), None, {}),
    (
        "password: literal of a bad enum",
        sign_in_literal(f'username: "staff", password: {ENUM_SECRET}'),
        None,
        {},
    ),
    (
        "password: unknown argument",
        sign_in_literal(f'username: "staff", password: "{PASSWORD}", pin: "{OTHER_SECRET}"'),
        None,
        {},
    ),
    (
        "password: syntax error",
        sign_in_literal(f'username: "staff", password: "{PASSWORD}"').replace(")", "", 1),
        None,
        {},
    ),
    (
        "password: well-typed, wrong",
        SIGN_IN_WITH_PASSWORD,
        {"username": "staff-member", "password": PASSWORD},
        {},
    ),
    ("password: variables missing", SIGN_IN_WITH_PASSWORD, {"password": PASSWORD}, {}),
    ("refresh: as a list", REFRESH, {"token": [REFRESH_TOKEN]}, {}),
    ("refresh: unknown token", REFRESH, {"token": REFRESH_TOKEN}, {}),
    ("refresh: extra variable", REFRESH, {"token": 1, "other": REFRESH_TOKEN}, {}),
    (
        "refresh: unknown operation name",
        REFRESH,
        {"token": REFRESH_TOKEN},
        {"operationName": OPERATION_SECRET},
    ),
    (
        "sign-out: bad bearer token",
        SIGN_OUT,
        {"token": REFRESH_TOKEN},
        {"authorization": f"Bearer {BAD_ACCESS_TOKEN}"},
    ),
    ("sign-out: bad API key", SIGN_OUT, {"token": 5}, {"authorization": f"Api-Key {BAD_API_KEY}"}),
    ("me: bad bearer token", "{ me { uuid } }", None, {"authorization": f"Bearer {REFRESH_TOKEN}"}),
]


def send(client: Client, query: str, variables: Any, extra: dict[str, Any]) -> int:
    operation_name = extra.get("operationName")
    authorization = extra.get("authorization")
    if operation_name is None and (variables is None or isinstance(variables, dict)):
        return call_graphql(client, query, variables, authorization=authorization).status_code
    # Bodies call_graphql cannot make: an operation name, odd variables.
    body = {"query": query, "variables": variables, "operationName": operation_name}
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.post(
        "/graphql/", json.dumps(body), content_type="application/json", **headers
    ).status_code


def raw_requests(client: Client) -> None:
    """Requests that never become a GraphQL operation: broken JSON, a secret in a GET's URL."""
    client.post(
        "/graphql/",
        '{"query": "mutation { signOut(refreshToken: \\"' + REFRESH_TOKEN + '\\") }", ',
        content_type="application/json",
    )
    client.post("/graphql/", f"password={PASSWORD}", content_type="text/plain")
    client.get("/graphql/", {"query": "{ me { uuid } }", "variables": f'{{"x": "{CODE}"'})
    client.get(
        "/graphql/",
        {"query": REFRESH, "variables": json.dumps({"token": REFRESH_TOKEN})},
        HTTP_ACCEPT="application/json",
    )


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    # The formatted lines (tracebacks included) and every record's own message and arguments.
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
    return "\n".join(parts)


def test_no_secret_of_a_bad_request_reaches_the_logs(client, caplog):
    make_staff(username="staff-member", password=secrets.token_urlsafe(16))
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "strawberry", "majestic"):
        caplog.set_level(logging.DEBUG, logger=name)
    statuses = {name: send(client, q, v, extra) for name, q, v, extra in BAD_REQUESTS}
    raw_requests(client)

    assert all(status < 500 for status in statuses.values()), statuses
    # Not vacuous: the errors were logged, by code and place.
    graphql_lines = [r.getMessage() for r in caplog.records if r.name == "majestic.graphql"]
    assert any("BAD_USER_INPUT" in line for line in graphql_lines), graphql_lines
    assert any("GRAPHQL_VALIDATION_FAILED" in line for line in graphql_lines), graphql_lines
    text = logged_text(caplog)
    leaked = [kind for kind, secret in SECRETS.items() if secret in text]
    assert leaked == [], f"secrets in the logs: {leaked}"


def test_a_refused_input_is_logged_by_code_place_and_operation(client, caplog):
    caplog.set_level(logging.DEBUG, logger="majestic.graphql")
    query = SIGN_UP.replace("mutation(", "mutation SignUp(", 1)
    call_graphql(client, query, {"input": {**SIGN_UP_INPUT, "dateOfBirth": 1}})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "majestic.graphql"]
    assert line.startswith("GraphQL error BAD_USER_INPUT at ") and line.endswith(" in SignUp")
    assert CODE not in line and "invalid value" not in line
