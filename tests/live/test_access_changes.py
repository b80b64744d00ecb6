"""Access changes reach open websockets at once, not at their next periodic credentials check.

The server here checks credentials only every 600 s (GRAPHQL_WS_REAUTHENTICATE_SECONDS), so a
socket closed within a second or two of a ban, a demotion, a sign-out or a revoked key was closed
by the announcement (schema.access -> the live hub -> the connection re-checking at once).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import Bystander, eventually, loopback_address, subscribe_and_wait
from tests.live.server import LiveServer

pytestmark = pytest.mark.live

# Generous for a loaded CI machine, yet far below the 600 s periodic check.
PROMPTLY = 2.0
PASSWORD = "a-long-Staff-passw0rd"

BAN = "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }"
SIGN_IN = """
mutation($username: String!, $password: String!) {
  signInWithPassword(username: $username, password: $password) {
    accessToken refreshToken errors { code }
  }
}
"""
SIGN_OUT = "mutation($token: String!) { signOut(refreshToken: $token) { errors { code } } }"
REFRESH = """
mutation($token: String!) { refreshToken(refreshToken: $token) { refreshToken errors { code } } }
"""
ME = "{ me { uuid isStaff } }"


@pytest.fixture(scope="module")
def patient(
    live_database_url: str, live_channel_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose connections re-check their credentials only every ten minutes."""
    log = tmp_path_factory.mktemp("patient-server") / "server.log"
    server = LiveServer(
        live_database_url,
        log,
        CHANNEL_LAYER_PREFIX=live_channel_prefix,
        GRAPHQL_WS_REAUTHENTICATE_SECONDS="600",
    ).start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def patient_settles(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from a server without subscriptions or watchers left by the previous."""
    yield
    if "patient" in request.fixturenames:
        patient: LiveServer = request.getfixturevalue("patient")
        for _ in range(150):
            live = patient.live()
            if live["subscriptions"] == 0 and live["accessWatchers"] == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"left behind on the server: {patient.live()}")


async def watching(server: LiveServer, authorization: str) -> GraphQLWebSocket:
    """A signed-in socket with a running domainEvents subscription."""
    ws = await GraphQLWebSocket.signed_in(server.ws_url, authorization)
    await subscribe_and_wait(server, ws, "events", {"detailTypes": ["Nothing"]})
    return ws


async def closed_promptly(ws: GraphQLWebSocket, since: float) -> str:
    """Wait for the server to close `ws`: 4403, within PROMPTLY seconds of `since`; its reason."""
    code, reason = await ws.wait_closed(timeout=10)
    elapsed = time.monotonic() - since
    assert code == 4403, (code, reason)
    assert elapsed < PROMPTLY, f"closed after {elapsed:.2f}s"
    return reason


async def still_served(ws: GraphQLWebSocket, op_id: str = "me") -> dict[str, Any]:
    payload = await ws.execute(op_id, ME)
    assert payload.get("data", {}).get("me"), payload
    return payload["data"]["me"]


def sign_in(server: LiveServer, username: str) -> dict[str, Any]:
    """A session of its own (access token bound to it, and a refresh token)."""
    with server.client_from(loopback_address()) as client:
        response = client.post(
            "/graphql/",
            json={"query": SIGN_IN, "variables": {"username": username, "password": PASSWORD}},
        )
    payload = response.json()["data"]["signInWithPassword"]
    assert payload["errors"] == [], payload
    return payload


async def bystander(server: LiveServer, authorization: str | None = None) -> Bystander:
    """Someone else's subscription (a staff member's by default): it must go on through everyone
    else's changes."""
    authorization = authorization or f"Bearer {server.make_user('staff')['token']}"
    detail_type = f"Bystander{uuid.uuid4().hex[:8]}"
    ws = await GraphQLWebSocket.signed_in(server.ws_url, authorization)
    await subscribe_and_wait(server, ws, "bystander", {"detailTypes": [detail_type]})
    return Bystander(server, ws, detail_type)


async def test_a_banned_users_subscription_ends_at_once(patient):
    superuser, victim = patient.make_user("superuser"), patient.make_user("staff")
    other = await bystander(patient)
    ws = await watching(patient, f"Bearer {victim['token']}")
    since = time.monotonic()
    result = patient.graphql(BAN, {"uuid": victim["uuid"]}, token=superuser["token"])
    assert result["data"]["banUser"]["errors"] == [], result
    assert await closed_promptly(ws, since) == "Credentials no longer valid."
    await other.assert_still_served()
    await other.socket.close()


async def test_a_revoked_api_keys_subscription_ends_at_once(patient):
    revoked, kept = patient.create_api_key("EVENTS"), patient.create_api_key("EVENTS")
    other = await bystander(patient, f"Api-Key {kept['key']}")
    ws = await watching(patient, f"Api-Key {revoked['key']}")
    since = time.monotonic()
    patient.revoke_api_key(revoked["name"])
    assert await closed_promptly(ws, since) == "Credentials no longer valid."
    await other.assert_still_served()  # another key's socket is untouched
    await other.socket.close()


async def test_a_demoted_staff_members_subscription_ends_at_once(patient):
    superuser, staff = patient.make_user("superuser"), patient.make_user("staff")
    ws = await watching(patient, f"Bearer {staff['token']}")
    since = time.monotonic()
    patient.set_staff(staff["uuid"], False, by=superuser["uuid"])
    assert await closed_promptly(ws, since) == "Permissions changed."
    # Reconnecting gives the new powers: signed in, but no longer staff.
    async with await GraphQLWebSocket.signed_in(patient.ws_url, f"Bearer {staff['token']}") as ws:
        assert (await still_served(ws))["isStaff"] is False


async def test_signing_out_ends_that_sessions_sockets_only(patient):
    staff = patient.make_user("staff", password=PASSWORD)
    signed_out, kept = sign_in(patient, staff["username"]), sign_in(patient, staff["username"])
    ws = await watching(patient, f"Bearer {signed_out['accessToken']}")
    async with await GraphQLWebSocket.signed_in(
        patient.ws_url, f"Bearer {kept['accessToken']}"
    ) as other:
        since = time.monotonic()
        result = patient.graphql(
            SIGN_OUT, {"token": signed_out["refreshToken"]}, token=signed_out["accessToken"]
        )
        assert result["data"]["signOut"]["errors"] == [], result
        assert await closed_promptly(ws, since) == "Credentials no longer valid."
        # The same user's other session re-checked too, found nothing changed, and stays.
        await still_served(other)


async def test_a_reused_refresh_token_ends_its_sessions_sockets_at_once(patient):
    staff = patient.make_user("staff", password=PASSWORD)
    session = sign_in(patient, staff["username"])
    ws = await watching(patient, f"Bearer {session['accessToken']}")
    rotated = patient.graphql(REFRESH, {"token": session["refreshToken"]})
    assert rotated["data"]["refreshToken"]["errors"] == [], rotated
    since = time.monotonic()
    reused = patient.graphql(REFRESH, {"token": session["refreshToken"]})
    assert [e["code"] for e in reused["data"]["refreshToken"]["errors"]] == ["TOKEN_REUSED"]
    assert await closed_promptly(ws, since) == "Credentials no longer valid."


async def test_only_connections_with_credentials_watch_for_access_changes(patient):
    staff = patient.make_user("staff")
    async with await GraphQLWebSocket.signed_in(patient.ws_url, None):
        assert patient.live()["accessWatchers"] == 0
        async with await GraphQLWebSocket.signed_in(patient.ws_url, f"Bearer {staff['token']}"):
            assert patient.live()["accessWatchers"] == 1
        await eventually(lambda: patient.live()["accessWatchers"] == 0)
    # A connection refused at connection_init watches nothing either.
    async with await GraphQLWebSocket.open(patient.ws_url) as refused:
        await refused.send(
            {"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}}
        )
        assert (await refused.wait_closed())[0] == 4403
    await eventually(lambda: patient.live()["accessWatchers"] == 0)
