"""Fixtures for tests against real servers (imported by tests/live and tests/e2e conftests)."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.server import LiveServer, live_database

DOMAIN_EVENTS = """
subscription Watch($detailTypes: [String!], $sources: [String!]) {
  domainEvents(detailTypes: $detailTypes, sources: $sources) {
    eventId source detailType occurredAt detail
  }
}
"""


_loopback_addresses = itertools.count(1)


def loopback_address() -> str:
    """A client address no other test uses: Linux routes all of 127.0.0.0/8 to lo, and a client
    socket bound to one of them reaches the servers on 127.0.0.1. Per-address limits are kept in
    the database the session's servers share, so each test counts from an address of its own."""
    n = next(_loopback_addresses)
    return f"127.{1 + os.getpid() % 250}.{n // 250 % 250}.{1 + n % 250}"


async def eventually(condition: Callable[[], bool], attempts: int = 150) -> None:
    """Wait (bounded) until `condition()` holds: for state that settles asynchronously."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


async def subscribe_and_wait(
    server: LiveServer,
    ws: GraphQLWebSocket,
    op_id: str,
    variables: dict[str, Any] | None = None,
    query: str = DOMAIN_EVENTS,
) -> None:
    """Subscribe; return once the server's hub holds the subscription (the protocol has no ack)."""
    before = server.live()["subscriptions"]
    await ws.subscribe(op_id, query, variables)
    await eventually(lambda: server.live()["subscriptions"] > before)


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_database(tmp_path_factory.mktemp("live-db")) as url:
        yield url


@pytest.fixture(scope="session")
def live_channel_prefix() -> str:
    # Redis pub/sub is shared by everybody on the machine: this session's servers talk only among
    # themselves.
    return f"majestic.test{os.getpid()}."


@pytest.fixture(scope="session")
def server(
    live_database_url: str, live_channel_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("live-server") / "server.log"
    server = LiveServer(live_database_url, log, CHANNEL_LAYER_PREFIX=live_channel_prefix).start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def server_settles(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test on the shared server, wait until its connections are gone.

    Closing is asynchronous; the next test counts subscriptions, so it must start from none.
    """
    yield
    if "server" not in request.fixturenames:
        return
    shared: LiveServer = request.getfixturevalue("server")
    for _ in range(150):
        if shared.process is None or shared.live()["subscriptions"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"subscriptions left behind on the server: {shared.live()}")


@pytest.fixture
def start_server(
    live_database_url: str, live_channel_prefix: str, tmp_path: Any
) -> Iterator[Callable[..., LiveServer]]:
    """Start servers of the test's own (e.g. with other settings); all stopped afterwards."""
    servers: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        env.setdefault("CHANNEL_LAYER_PREFIX", live_channel_prefix)
        server = LiveServer(
            live_database_url, tmp_path / f"server{len(servers)}.log", **env
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def staff(server: LiveServer) -> dict[str, Any]:
    user = server.make_user("staff")
    return {**user, "authorization": f"Bearer {user['token']}"}


class Bystander:
    """A subscriber minding its own business: bad clients elsewhere must not disturb it."""

    def __init__(self, server: LiveServer, socket: GraphQLWebSocket, detail_type: str) -> None:
        self.server = server
        self.socket = socket
        self.detail_type = detail_type

    async def assert_still_served(self) -> None:
        self.server.publish(detailType=self.detail_type)
        message = await self.socket.receive_for("bystander")
        assert message["type"] == "next", message
        assert message["payload"]["data"]["domainEvents"]["detailType"] == self.detail_type


@pytest.fixture
async def bystander(server: LiveServer, staff: dict[str, Any]) -> AsyncIterator[Bystander]:
    detail_type = f"Bystander{uuid.uuid4().hex[:8]}"
    socket = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    await subscribe_and_wait(server, socket, "bystander", {"detailTypes": [detail_type]})
    watcher = Bystander(server, socket, detail_type)
    yield watcher
    await socket.close()
