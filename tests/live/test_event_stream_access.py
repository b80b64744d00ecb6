"""Who may watch `domainEvents`, and what never reaches a watcher (against a real server).

The stream carries every module's events, so it is for staff and keys made for it (EVENTS); other
machine clients are refused. Personal or secret data (the catalog's sensitiveFields, e.g. the phone
number and sealed code of VerificationCodeRequested) reaches nobody through it, whoever watches.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import DOMAIN_EVENTS, loopback_address, subscribe_and_wait

pytestmark = pytest.mark.live

REQUEST_CODE = """
mutation($phone: String!) {
  requestVerificationCode(phoneNumber: $phone, purpose: SIGN_UP) { expiresAt errors { code } }
}
"""


@pytest.mark.parametrize("scope", ["HEARTBEAT", "DISTRIBUTION", "NOTIFICATION"])
async def test_a_key_without_the_events_scope_is_refused_the_stream(server, scope):
    key = server.make_api_key(scope)
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Api-Key {key}") as ws:
        await ws.subscribe("events", DOMAIN_EVENTS)
        message = await ws.receive_for("events")
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_key_with_every_other_scope_is_still_refused(server):
    key = server.make_api_key("HEARTBEAT", "DISTRIBUTION", "NOTIFICATION")
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Api-Key {key}") as ws:
        await ws.subscribe("events", DOMAIN_EVENTS)
        message = await ws.receive_for("events")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("watcher", ["events-key", "staff"])
async def test_an_events_key_and_staff_receive_events(server, staff, watcher):
    authorization = (
        f"Api-Key {server.make_api_key('EVENTS')}"
        if watcher == "events-key"
        else staff["authorization"]
    )
    detail_type = f"Watched{uuid.uuid4().hex[:8]}"
    async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as ws:
        await subscribe_and_wait(server, ws, "events", {"detailTypes": [detail_type]})
        server.publish(detailType=detail_type)
        message = await ws.receive_for("events")
    assert message["type"] == "next", message
    assert message["payload"]["data"]["domainEvents"]["detailType"] == detail_type


def _random_mobile_number() -> tuple[str, str]:
    """A valid Korean mobile number (E.164) no other test uses, and its national digits."""
    # 010-2000-0000 to 010-4999-9999: all valid (libphonenumber refuses some others, such as
    # 010-597x-xxxx, which made this test fail one run in about 300).
    national = f"10{random.randrange(20_000_000, 50_000_000)}"
    return f"+82{national}", national


async def _verification_code_requested(ws: GraphQLWebSocket, op_id: str) -> dict:
    while True:  # other tests' events may come first on an unfiltered subscription
        message = await ws.receive_for(op_id)
        assert message["type"] == "next", message
        if message["payload"]["data"]["domainEvents"]["detailType"] == "VerificationCodeRequested":
            return message


async def test_a_verification_code_request_reaches_no_watcher_with_the_number_or_the_code(
    server, staff
):
    phone, national = _random_mobile_number()
    key = server.make_api_key("EVENTS")
    # One socket per watcher: a socket's reader skips other operations' messages, so two
    # subscriptions on one socket would race for which message each sees.
    async with (
        await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ops,
        await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ops_all,
        await GraphQLWebSocket.signed_in(server.ws_url, f"Api-Key {key}") as machine,
    ):
        # Filtered and unfiltered watchers, by a person and by a machine: none gets the data.
        await subscribe_and_wait(
            server, ops, "codes", {"detailTypes": ["VerificationCodeRequested"]}
        )
        await subscribe_and_wait(server, ops_all, "everything")
        await subscribe_and_wait(server, machine, "everything")
        with server.client_from(loopback_address()) as client:
            response = client.post(
                "/graphql/", json={"query": REQUEST_CODE, "variables": {"phone": phone}}
            )
        payload = response.json()["data"]["requestVerificationCode"]
        assert payload["errors"] == [] and payload["expiresAt"], payload
        received = [
            await _verification_code_requested(ops, "codes"),
            await _verification_code_requested(ops_all, "everything"),
            await _verification_code_requested(machine, "everything"),
        ]
    for message in received:
        raw = json.dumps(message)
        assert phone not in raw and national not in raw, raw
        detail = message["payload"]["data"]["domainEvents"]["detail"]
        # What is left is harmless: the purpose and when the code expires; `redacted` says so.
        assert set(detail["data"]) == {"purpose", "expiresAt"}, detail
        assert detail["data"]["purpose"] == "SIGN_UP"
        assert detail["redacted"] == ["phoneNumber", "sealedCode"]
        # A Fernet token (the sealed code) starts with gAAAAA: none anywhere in the message.
        assert "gAAAAA" not in raw
