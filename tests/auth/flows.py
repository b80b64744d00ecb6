"""GraphQL steps the auth and user tests share: ask for a code, read it, sign up or in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from events.models import OutboxEvent
from events.sealing import open_sealed_code

REQUEST_CODE = """
mutation($phone: String!, $purpose: VerificationPurpose!) {
  requestVerificationCode(phoneNumber: $phone, purpose: $purpose) {
    expiresAt errors { field code message }
  }
}"""

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    accessToken refreshToken
    user { uuid username phoneNumber type fullName dateOfBirth isStaff }
    errors { field code message }
  }
}"""

SIGN_IN_WITH_CODE = """
mutation($phone: String!, $code: String!) {
  signInWithCode(phoneNumber: $phone, code: $code) {
    accessToken refreshToken user { uuid username } errors { field code message }
  }
}"""

SIGN_IN_WITH_PASSWORD = """
mutation($username: String!, $password: String!) {
  signInWithPassword(username: $username, password: $password) {
    accessToken refreshToken user { uuid username } errors { field code message }
  }
}"""

REFRESH = """
mutation($token: String!) {
  refreshToken(refreshToken: $token) {
    accessToken refreshToken user { uuid } errors { field code message }
  }
}"""

SIGN_OUT = """
mutation($token: String!) { signOut(refreshToken: $token) { errors { field code message } } }"""

ME = "{ me { uuid username phoneNumber type fullName dateOfBirth isStaff groups } }"


def events_of(detail_type: str) -> list[dict[str, Any]]:
    """Outbox rows of one type, oldest first, as their Detail dicts."""
    return [
        row.detail for row in OutboxEvent.objects.filter(detail_type=detail_type).order_by("id")
    ]


def request_code(gql: Any, phone: str, purpose: str = "SIGN_IN") -> dict[str, Any]:
    return gql(REQUEST_CODE, {"phone": phone, "purpose": purpose})["data"][
        "requestVerificationCode"
    ]


def last_sent_code(phone: str) -> str:
    """The code the notifier would send: opened from the sealed event, like the function does."""
    sent = [d for d in events_of("VerificationCodeRequested") if d["data"]["phoneNumber"] == phone]
    assert sent, f"no code was sent to {phone}"
    return open_sealed_code(sent[-1]["data"]["sealedCode"])


def code_for(gql: Any, phone: str, purpose: str = "SIGN_IN") -> str:
    payload = request_code(gql, phone, purpose)
    assert payload["errors"] == [], payload
    return last_sent_code(phone)


def sign_up(
    gql: Any,
    phone: str,
    *,
    user_type: str = "DRIVER",
    full_name: str = "Kim Driver",
    date_of_birth: str | None = "1990-04-01",
    code: str | None = None,
) -> dict[str, Any]:
    code = code or code_for(gql, phone, "SIGN_UP")
    variables = {
        "input": {
            "phoneNumber": phone,
            "code": code,
            "userType": user_type,
            "fullName": full_name,
            "dateOfBirth": date_of_birth,
        }
    }
    return gql(SIGN_UP, variables)["data"]["signUp"]


def sign_in_with_code(gql: Any, phone: str, code: str | None = None) -> dict[str, Any]:
    code = code or code_for(gql, phone)
    return gql(SIGN_IN_WITH_CODE, {"phone": phone, "code": code})["data"]["signInWithCode"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


class Clock:
    """Moves `django.utils.timezone.now` (what the services read) forward on demand."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)
