"""systemStatus counts the websocket connections and subscriptions open on every gateway process:
on one server, and across two sharing one Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait
from tests.live.server import LiveServer

pytestmark = pytest.mark.live

COUNTS = "{ systemStatus { websocketConnections activeSubscriptions } }"


def counts(server: LiveServer, token: str) -> tuple[int, int]:
    status = server.graphql(COUNTS, token=token)["data"]["systemStatus"]
    return status["websocketConnections"], status["activeSubscriptions"]


async def counts_become(server: LiveServer, token: str, expected: tuple[int, int]) -> None:
    """Poll (bounded) until systemStatus shows `expected`: closing and sharing are asynchronous."""
    seen: tuple[int, int] | None = None
    for _ in range(100):
        seen = await asyncio.to_thread(counts, server, token)
        if seen == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"systemStatus showed {seen}, never {expected}")


def own_prefix() -> str:
    """A channel prefix (and so a Redis hash of counts) for the test's servers alone."""
    return f"majestic.counts{uuid.uuid4().hex[:8]}."


async def open_subscribed(server: LiveServer, user: dict[str, Any]) -> GraphQLWebSocket:
    ws = await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {user['token']}")
    await subscribe_and_wait(server, ws, "events", {"detailTypes": ["Nothing"]})
    return ws


async def test_two_sockets_with_a_subscription_each_are_counted_until_they_close(start_server):
    server = start_server(CHANNEL_LAYER_PREFIX=own_prefix())
    staff = server.make_user("staff")
    assert counts(server, staff["token"]) == (0, 0)
    first = await open_subscribed(server, staff)
    second = await open_subscribed(server, staff)
    await counts_become(server, staff["token"], (2, 2))
    await first.close()
    await second.close()
    await counts_become(server, staff["token"], (0, 0))


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (shared counts)")
async def test_sockets_on_two_servers_are_counted_on_either(start_server):
    prefix = own_prefix()  # only these two processes share counts
    one, other = (
        start_server(CHANNEL_LAYER_PREFIX=prefix),
        start_server(CHANNEL_LAYER_PREFIX=prefix),
    )
    staff = one.make_user("staff")
    first = await open_subscribed(one, staff)
    second = await open_subscribed(other, staff)
    await counts_become(one, staff["token"], (2, 2))
    await counts_become(other, staff["token"], (2, 2))
    await second.close()
    await counts_become(one, staff["token"], (1, 1))
    await first.close()
    await counts_become(one, staff["token"], (0, 0))
    await counts_become(other, staff["token"], (0, 0))


STATUS_SUBSCRIPTION = """
subscription {
  systemStatus {
    websocketConnections activeSubscriptions
    relayWorkers { name stale } lastHeartbeatTasks { name count }
  }
}
"""


async def test_the_system_status_subscription_carries_the_new_fields(start_server):
    server = start_server(
        CHANNEL_LAYER_PREFIX=own_prefix(), EVENTS_RELAY_IN_PROCESS="1", LIVE_STATUS_POLL_SECONDS="1"
    )
    staff = server.make_user("staff")
    async with await GraphQLWebSocket.signed_in(
        server.ws_url, f"Bearer {staff['token']}"
    ) as watcher:
        await watcher.subscribe("status", STATUS_SUBSCRIPTION)
        first = (await watcher.receive_for("status"))["payload"]["data"]["systemStatus"]
        # The watcher's own socket and subscription, and the server's in-process relay (the
        # session's other servers share the database, so their relays may be listed too).
        assert (first["websocketConnections"], first["activeSubscriptions"]) == (1, 1)
        mine = [w for w in first["relayWorkers"] if w["name"].endswith(f":{server.pid}")]
        assert [worker["stale"] for worker in mine] == [False]
        assert isinstance(first["lastHeartbeatTasks"], list)
        async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {staff['token']}"):
            # Another socket is a change, told at the next look (LIVE_STATUS_POLL_SECONDS).
            changed = (await watcher.receive_for("status"))["payload"]["data"]
        assert changed["systemStatus"]["websocketConnections"] == 2
