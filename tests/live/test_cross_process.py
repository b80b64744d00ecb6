"""Two server processes on one database and one Redis: events cross between them, once each, and
so do access changes (a ban on one closes the banned user's socket on the other)."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait
from tests.live.logistics import create_center, create_loaded_transport, start_transport
from tests.live.test_subscriptions import TRANSPORT_UPDATES

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (Redis layer)"),
]


@pytest.fixture
def two_servers(start_server):
    # Both relay their own events, as `make run` does; Redis carries them to the other process.
    first = start_server(EVENTS_RELAY_IN_PROCESS="1")
    second = start_server(EVENTS_RELAY_IN_PROCESS="1")
    assert first.pid != second.pid
    return first, second


async def test_a_change_made_on_one_server_reaches_a_subscriber_on_the_other(two_servers):
    first, second = two_servers
    staff = first.make_user("staff")
    async with await GraphQLWebSocket.signed_in(first.ws_url, f"Bearer {staff['token']}") as ws:
        await subscribe_and_wait(
            first, ws, "events", {"detailTypes": ["DistributionCenterCreated", "Marker"]}
        )
        code = create_center(second, staff["token"])  # the mutation runs on the other process
        message = await ws.receive_for("events")
        event = message["payload"]["data"]["domainEvents"]
        assert event["detailType"] == "DistributionCenterCreated"
        assert event["detail"]["data"]["centerCode"] == code

        # Exactly once: the next thing to arrive is a marker published after it, not a copy.
        marker = uuid.uuid4().hex
        second.publish(envelope=_marker(marker))
        following = (await ws.receive_for("events"))["payload"]["data"]["domainEvents"]
        assert following["eventId"] == marker


async def test_a_driver_on_one_server_sees_the_transport_started_on_the_other(two_servers):
    first, second = two_servers
    staff, driver = second.make_user("staff"), first.make_user("driver")
    transport = create_loaded_transport(second, staff["token"], driver["uuid"])
    async with await GraphQLWebSocket.signed_in(first.ws_url, f"Bearer {driver['token']}") as ws:
        await subscribe_and_wait(
            first, ws, "follow", {"uuid": transport["uuid"]}, query=TRANSPORT_UPDATES
        )
        start_transport(second, staff["token"], transport["uuid"])
        message = await ws.receive_for("follow")
    assert message["payload"]["data"]["transportUpdates"]["status"] == "IN_TRANSIT"


async def test_a_ban_on_one_server_closes_the_users_socket_on_the_other_at_once(start_server):
    # Periodic credential checks ten minutes apart: only the announcement can close it in time.
    first = start_server(GRAPHQL_WS_REAUTHENTICATE_SECONDS="600")
    second = start_server(GRAPHQL_WS_REAUTHENTICATE_SECONDS="600")
    superuser, victim = first.make_user("superuser"), first.make_user("staff")
    async with await GraphQLWebSocket.signed_in(second.ws_url, f"Bearer {victim['token']}") as ws:
        await subscribe_and_wait(second, ws, "events", {"detailTypes": ["Nothing"]})
        since = time.monotonic()
        banned = first.graphql(
            "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }",
            {"uuid": victim["uuid"]},
            token=superuser["token"],
        )
        assert banned["data"]["banUser"]["errors"] == [], banned
        code, reason = await ws.wait_closed(timeout=10)
    assert (code, reason) == (4403, "Credentials no longer valid.")
    assert time.monotonic() - since < 2.0


def _marker(event_id: str) -> dict:
    return {
        "source": "majestic.test",
        "detailType": "Marker",
        "detail": {"eventId": event_id, "occurredAt": "2026-01-01T00:00:00Z", "data": {}},
    }
