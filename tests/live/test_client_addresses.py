"""Client addresses and schemes, against real servers started the project's ways.

The app alone decides which forwarding headers to believe (TRUSTED_PROXY_HOPS for X-Forwarded-For,
TRUSTED_PROXY_TLS for X-Forwarded-Proto): the server must hand it the socket's own peer and scheme.
uvicorn's own proxy-header handling (on by default for loopback peers) would rewrite both, and a
fresh forged X-Forwarded-For per request would escape every per-address limit. Websockets count
per address too: one anonymous socket's bad passwords no longer lock every other socket out.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import loopback_address
from tests.live.server import GunicornServer, LiveServer, live_database

pytestmark = pytest.mark.live

SIGN_IN = """
mutation SignIn($username: String!, $password: String!) {
  signInWithPassword(username: $username, password: $password) { accessToken errors { code } }
}
"""
LIMIT = 3  # SIGN_IN_RATE_LIMIT_PER_MINUTE of the servers started here, to reach it quickly
PASSWORD = "a-long-Staff-passw0rd"
SERVERS = {"uvicorn": LiveServer, "gunicorn": GunicornServer}
_forged = itertools.count(1)


def forged_address() -> str:
    """A different address for every request: what a client escaping per-address limits sends."""
    n = next(_forged)
    return f"198.51.{n // 250 % 250}.{1 + n % 250}"


@pytest.fixture(scope="module")
def start_kind(
    live_database_url: str, live_channel_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveServer]]:
    """Start a server of a kind (uvicorn as `make run`, gunicorn with config/gunicorn.py), once
    per kind and settings for the module. `own_database`: one of its own, for tests that must
    count from 127.0.0.1 (the address shared by every other test's HTTP client)."""
    started: dict[tuple[Any, ...], LiveServer] = {}
    with contextlib.ExitStack() as stack:

        def start(kind: str, *, own_database: bool = False, **env: str) -> LiveServer:
            key = (kind, own_database, tuple(sorted(env.items())))
            if key not in started:
                workdir = tmp_path_factory.mktemp(f"{kind}-server")
                url = (
                    stack.enter_context(live_database(workdir))
                    if own_database
                    else live_database_url
                )
                started[key] = SERVERS[kind](
                    url,
                    workdir / "server.log",
                    CHANNEL_LAYER_PREFIX=live_channel_prefix,
                    SIGN_IN_RATE_LIMIT_PER_MINUTE=str(LIMIT),
                    SECURE_HSTS_SECONDS="3600",
                    **env,
                ).start()
            return started[key]

        try:
            yield start
        finally:
            for server in started.values():
                server.close()


def forging_client(
    start_kind: Callable[..., LiveServer], kind: str, trust: str
) -> tuple[httpx.Client, str]:
    """A client (and its address) whose forwarding headers the server itself would believe, were
    its own handling on: from 127.0.0.1 (uvicorn's and gunicorn's default FORWARDED_ALLOW_IPS), or
    from anywhere with FORWARDED_ALLOW_IPS=* in the server's environment (as platforms may set)."""
    if trust == "loopback":
        return start_kind(kind, own_database=True).client_from("127.0.0.1"), "127.0.0.1"
    source = loopback_address()
    return start_kind(kind, FORWARDED_ALLOW_IPS="*").client_from(source), source


def nobody() -> str:
    """A username nobody has, of the test's own (failures per username are limited too)."""
    return f"nobody-{uuid.uuid4().hex[:8]}"


def sign_in_codes(client: Any, headers: dict[str, str], username: str) -> list[str]:
    response = client.post(
        "/graphql/",
        json={"query": SIGN_IN, "variables": {"username": username, "password": "wrong"}},
        headers=headers,
    )
    payload = response.json()["data"]["signInWithPassword"]
    return [error["code"] for error in payload["errors"]]


# --- the server hands the app the socket's own peer and scheme -----------------------------------


@pytest.mark.parametrize("trust", ["loopback", "everyone"])
@pytest.mark.parametrize("kind", SERVERS)
def test_a_fresh_forged_forwarded_for_per_request_does_not_escape_the_sign_in_limit(
    start_kind, kind, trust
):
    username = nobody()
    client, source = forging_client(start_kind, kind, trust)
    with client:
        seen = [
            sign_in_codes(client, {"X-Forwarded-For": forged_address()}, username)
            for _ in range(LIMIT + 1)
        ]
        assert seen == [["INVALID_CREDENTIALS"]] * LIMIT + [["RATE_LIMITED"]]
        # The app saw the socket's peer, whatever the header said.
        peer = client.get("/test-only/peer", headers={"X-Forwarded-For": forged_address()}).json()
    assert peer["client"][0] == peer["remoteAddr"] == peer["clientAddress"] == source


@pytest.mark.parametrize("trust", ["loopback", "everyone"])
@pytest.mark.parametrize("kind", SERVERS)
def test_a_forged_forwarded_proto_does_not_make_a_request_secure(start_kind, kind, trust):
    client, _ = forging_client(start_kind, kind, trust)
    with client:
        forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"}
        health = client.get("/healthz", headers=forged)
        peer = client.get("/test-only/peer", headers=forged).json()
    assert health.status_code == 200
    assert "strict-transport-security" not in health.headers  # HSTS goes on secure requests only
    assert peer["scheme"] == "http" and peer["isSecure"] is False


@pytest.mark.parametrize("kind", SERVERS)
def test_behind_a_trusted_proxy_the_entry_it_appended_counts(start_kind, kind):
    # What one proxy in front (TRUSTED_PROXY_HOPS=1) forwards: whatever the client sent, then
    # the client's address as the proxy saw it, last; and X-Forwarded-Proto as it set it.
    server = start_kind(kind, TRUSTED_PROXY_HOPS="1", TRUSTED_PROXY_TLS="1")
    client_seen_by_proxy, username = forged_address(), nobody()
    with server.client_from(loopback_address()) as proxy:

        def forwarded(client_address: str) -> dict[str, str]:
            return {
                "X-Forwarded-For": f"{forged_address()}, {client_address}",
                "X-Forwarded-Proto": "https",
            }

        peer = proxy.get("/test-only/peer", headers=forwarded(client_seen_by_proxy)).json()
        assert peer["clientAddress"] == client_seen_by_proxy
        assert peer["isSecure"] is True
        health = proxy.get("/healthz", headers=forwarded(client_seen_by_proxy))
        assert health.headers["strict-transport-security"].startswith("max-age=3600")

        seen = [
            sign_in_codes(proxy, forwarded(client_seen_by_proxy), username)
            for _ in range(LIMIT + 1)
        ]
        assert seen == [["INVALID_CREDENTIALS"]] * LIMIT + [["RATE_LIMITED"]]
        # Another client behind the same proxy has limits of its own.
        assert sign_in_codes(proxy, forwarded(forged_address()), username) == [
            "INVALID_CREDENTIALS"
        ]


# --- websockets count per client address ---------------------------------------------------------


async def ws_sign_in(ws: GraphQLWebSocket, op_id: str, username: str, password: str) -> list[str]:
    payload = await ws.execute(op_id, SIGN_IN, {"username": username, "password": password})
    assert "data" in payload, payload
    return [error["code"] for error in payload["data"]["signInWithPassword"]["errors"]]


async def test_bad_passwords_on_one_websocket_do_not_lock_out_other_clients(start_kind):
    # The server would believe anyone's X-Forwarded-For, were its own handling on.
    server = start_kind("uvicorn", FORWARDED_ALLOW_IPS="*")
    staff = server.make_user("staff", password=PASSWORD)
    attacker, victim = loopback_address(), loopback_address()
    async with await GraphQLWebSocket.signed_in(
        server.ws_url,
        None,
        local_addr=(attacker, 0),
        # Forged, and not believed (TRUSTED_PROXY_HOPS is 0): the socket's peer counts.
        additional_headers={"X-Forwarded-For": forged_address()},
    ) as ws:
        seen = [await ws_sign_in(ws, f"bad{n}", staff["username"], "wrong") for n in range(LIMIT)]
        assert seen == [["INVALID_CREDENTIALS"]] * LIMIT
        # The limit still holds for the attacker's own address, even with the right password.
        assert await ws_sign_in(ws, "last", staff["username"], PASSWORD) == ["RATE_LIMITED"]

    async with await GraphQLWebSocket.signed_in(server.ws_url, None, local_addr=(victim, 0)) as ws:
        assert await ws_sign_in(ws, "good", staff["username"], PASSWORD) == []


async def test_websockets_behind_a_trusted_proxy_count_the_address_it_forwarded(start_kind):
    server = start_kind("uvicorn", TRUSTED_PROXY_HOPS="1", TRUSTED_PROXY_TLS="1")
    proxy, username = loopback_address(), nobody()
    locked_out, other = forged_address(), forged_address()

    def behind_proxy(client_address: str) -> dict[str, Any]:
        headers = {"X-Forwarded-For": f"{forged_address()}, {client_address}"}
        return {"local_addr": (proxy, 0), "additional_headers": headers}

    async with await GraphQLWebSocket.signed_in(
        server.ws_url, None, **behind_proxy(locked_out)
    ) as ws:
        seen = [await ws_sign_in(ws, f"bad{n}", username, "wrong") for n in range(LIMIT + 1)]
        assert seen == [["INVALID_CREDENTIALS"]] * LIMIT + [["RATE_LIMITED"]]
    # The same proxy's socket for another client: that client's own limit.
    async with await GraphQLWebSocket.signed_in(server.ws_url, None, **behind_proxy(other)) as ws:
        assert await ws_sign_in(ws, "other", username, "wrong") == ["INVALID_CREDENTIALS"]
