"""The subscriptions of the API, fed by real mutations through the outbox and the relay."""

from __future__ import annotations

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait
from tests.live.logistics import create_center, create_loaded_transport, start_transport

pytestmark = pytest.mark.live

TRANSPORT_UPDATES = """
subscription Follow($uuid: UUID!) {
  transportUpdates(transportUuid: $uuid) {
    uuid status departedAt batchCount
    sourceCenter { centerCode }
    driver { username }
  }
}
"""

SYSTEM_STATUS = """
subscription { systemStatus { lastHeartbeatAt pendingEvents failedEvents oldestPendingEventAge } }
"""


async def test_a_mutation_sent_over_a_socket_reaches_watchers_as_a_domain_event(server, staff):
    other = server.make_user("staff")
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as watcher:
        await subscribe_and_wait(
            server, watcher, "events", {"detailTypes": ["DistributionCenterCreated"]}
        )
        async with await GraphQLWebSocket.signed_in(
            server.ws_url, f"Bearer {other['token']}"
        ) as actor:
            payload = await actor.execute(
                "create",
                'mutation { createDistributionCenter(input: {centerCode: "WS-1", name: "Socket"})'
                " { distributionCenter { centerCode } errors { code } } }",
            )
        assert payload["data"]["createDistributionCenter"]["errors"] == []
        message = await watcher.receive_for("events")
    event = message["payload"]["data"]["domainEvents"]
    assert event["detailType"] == "DistributionCenterCreated"
    assert event["source"] == "majestic.distribution"
    assert event["detail"]["data"]["centerCode"] == "WS-1"
    # Made over the socket, the event still names who did it.
    assert event["detail"]["actor"] == {"type": "user", "uuid": other["uuid"]}


async def test_a_driver_follows_their_transport_as_it_starts(server, staff):
    driver = server.make_user("driver")
    transport = create_loaded_transport(server, staff["token"], driver["uuid"])
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {driver['token']}") as ws:
        await subscribe_and_wait(
            server, ws, "follow", {"uuid": transport["uuid"]}, query=TRANSPORT_UPDATES
        )
        start_transport(server, staff["token"], transport["uuid"])
        message = await ws.receive_for("follow")
    assert "errors" not in message["payload"], message
    update = message["payload"]["data"]["transportUpdates"]
    assert update["uuid"] == transport["uuid"]
    assert update["status"] == "IN_TRANSIT"
    assert update["departedAt"] is not None
    assert update["batchCount"] == 1
    assert update["sourceCenter"] == {"centerCode": transport["source"]}
    assert update["driver"] == {"username": driver["username"]}


async def test_staff_follow_any_transport(server, staff):
    driver = server.make_user("driver")
    transport = create_loaded_transport(server, staff["token"], driver["uuid"])
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await subscribe_and_wait(
            server, ws, "follow", {"uuid": transport["uuid"]}, query=TRANSPORT_UPDATES
        )
        start_transport(server, staff["token"], transport["uuid"])
        message = await ws.receive_for("follow")
    assert message["payload"]["data"]["transportUpdates"]["status"] == "IN_TRANSIT"


@pytest.mark.parametrize(
    ("caller", "code"), [("other-driver", "NOT_FOUND"), (None, "UNAUTHENTICATED")]
)
async def test_only_staff_and_its_driver_may_follow_a_transport(server, staff, caller, code):
    driver = server.make_user("driver")
    transport = create_loaded_transport(server, staff["token"], driver["uuid"])
    authorization = f"Bearer {server.make_user('driver')['token']}" if caller else None
    async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as ws:
        await ws.subscribe("follow", TRANSPORT_UPDATES, {"uuid": transport["uuid"]})
        message = await ws.receive_for("follow")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == code


async def test_system_status_comes_at_once_and_again_after_a_heartbeat(server, staff):
    key = server.make_api_key("HEARTBEAT")
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("status", SYSTEM_STATUS)
        first = (await ws.receive_for("status"))["payload"]["data"]["systemStatus"]
        assert set(first) == {
            "lastHeartbeatAt",
            "pendingEvents",
            "failedEvents",
            "oldestPendingEventAge",
        }
        result = server.graphql(
            "mutation { heartbeat { receivedAt errors { code } } }", authorization=f"Api-Key {key}"
        )
        assert result["data"]["heartbeat"]["errors"] == [], result
        received_at = result["data"]["heartbeat"]["receivedAt"]
        while True:  # pushes for other changes may come first; the heartbeat's one must come
            status = (await ws.receive_for("status"))["payload"]["data"]["systemStatus"]
            if status["lastHeartbeatAt"] == received_at:
                break
    assert status["failedEvents"] == first["failedEvents"]


async def test_system_status_is_for_staff_only(server):
    driver = server.make_user("driver")
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {driver['token']}") as ws:
        await ws.subscribe("status", SYSTEM_STATUS)
        message = await ws.receive_for("status")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_events_of_other_centers_do_not_reach_a_filtered_watcher(server, staff):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await subscribe_and_wait(
            server, ws, "users", {"sources": ["majestic.user"], "detailTypes": ["UserBanned"]}
        )
        create_center(server, staff["token"])  # a distribution event: not for this watcher
        server.publish(detailType="UserBanned", source="majestic.user")
        message = await ws.receive_for("users")
    assert message["payload"]["data"]["domainEvents"]["detailType"] == "UserBanned"
