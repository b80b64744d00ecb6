"""Live subscriptions under stress: stuck or vanished clients, restarts, expiring credentials."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import DOMAIN_EVENTS, eventually, subscribe_and_wait

pytestmark = pytest.mark.live


async def test_a_stuck_subscriber_does_not_hold_up_others_and_learns_what_it_missed(server, staff):
    detail_type = f"Flood{uuid.uuid4().hex[:8]}"
    variables = {"detailTypes": [detail_type]}
    # A client that stops reading: tiny receive buffers, and the library stops after one frame.
    tight = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tight.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    tight.connect(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    stuck = await GraphQLWebSocket.signed_in(
        server.ws_url, staff["authorization"], sock=tight, max_queue=1, ping_interval=None
    )
    await subscribe_and_wait(server, stuck, "flood", variables)
    healthy = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    await subscribe_and_wait(server, healthy, "flood", variables)

    total, rounds = 3000, 30
    for batch in range(rounds):
        server.publish(count=total // rounds, detailType=detail_type, padding=4000)
        # The healthy client gets every event of each round while the stuck one reads nothing.
        for n in range(total // rounds):
            message = await healthy.receive_for("flood")
            assert message["type"] == "next", message
            assert message["payload"]["data"]["domainEvents"]["detail"]["data"]["n"] == n, batch

    delivered, dropped, last = 0, 0, None
    while delivered + dropped < total:
        message = await stuck.receive_for("flood")
        if message["payload"].get("errors"):
            error = message["payload"]["errors"][0]
            assert error["extensions"]["code"] == "EVENTS_DROPPED", error
            dropped += error["extensions"]["dropped"]
        else:
            delivered += 1
            last = message["payload"]["data"]["domainEvents"]["detail"]["data"]["n"]
    assert dropped > 0, "the stuck client should have fallen behind"
    assert delivered + dropped == total  # nothing lost without notice
    assert last == total // rounds - 1  # it ends with the newest event
    await stuck.close()
    await healthy.close()


async def test_closed_connections_leave_no_subscription_or_group_membership(start_server, staff):
    dedicated = start_server()
    authorization = f"Bearer {dedicated.make_user('staff')['token']}"
    sockets = []
    for n in range(30):
        ws = await GraphQLWebSocket.signed_in(dedicated.ws_url, authorization)
        for op in range(3):
            await ws.subscribe(f"op{op}", DOMAIN_EVENTS, {"detailTypes": [f"T{n}-{op}"]})
        sockets.append(ws)
    await eventually(lambda: dedicated.live()["subscriptions"] == 90)
    assert dedicated.live()["hubChannel"] is not None

    for ws in sockets[:10]:  # a clean close
        await ws.close()
    for ws in sockets[10:20]:  # the client vanishes: no close frame, just a dropped TCP connection
        ws.connection.transport.abort()
    for ws in sockets[20:]:  # each subscription completed first, then a close
        for op in range(3):
            await ws.complete(f"op{op}")
        await ws.close()

    await eventually(lambda: dedicated.live()["subscriptions"] == 0)
    live = dedicated.live()
    assert live["hubChannel"] is None
    if live["groupMembers"] is not None:  # in-memory layer: the group itself is visible
        assert live["groupMembers"] == []
    if os.environ.get("REDIS_URL"):  # Redis: nobody in this process listens to the group any more
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        channel = f"{dedicated.env['CHANNEL_LAYER_PREFIX']}__group__majestic.events"
        assert dict(client.pubsub_numsub(channel))[channel.encode()] == 0


async def test_a_restart_ends_subscriptions_cleanly_and_clients_resubscribe(start_server):
    dedicated = start_server()
    authorization = f"Bearer {dedicated.make_user('staff')['token']}"
    ws = await GraphQLWebSocket.signed_in(dedicated.ws_url, authorization)
    await subscribe_and_wait(dedicated, ws, "events")

    exit_code = dedicated.stop(signal.SIGTERM)
    close_code, _ = await ws.wait_closed()
    assert exit_code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert close_code == 1012  # "service restart": clients know to come back
    assert "Traceback" not in dedicated.log_tail(400)

    dedicated.start()  # same address: the listening socket outlived the process
    async with await GraphQLWebSocket.signed_in(dedicated.ws_url, authorization) as again:
        await subscribe_and_wait(dedicated, again, "events", {"detailTypes": ["AfterRestart"]})
        dedicated.publish(detailType="AfterRestart")
        message = await again.receive_for("events")
    assert message["payload"]["data"]["domainEvents"]["detailType"] == "AfterRestart"


async def test_expired_credentials_end_a_long_lived_connection_with_4403(start_server):
    dedicated = start_server(
        ACCESS_TOKEN_LIFETIME_SECONDS="2", GRAPHQL_WS_REAUTHENTICATE_SECONDS="1"
    )
    authorization = f"Bearer {dedicated.make_user('staff')['token']}"
    ws = await GraphQLWebSocket.signed_in(dedicated.ws_url, authorization)
    await ws.subscribe("events", DOMAIN_EVENTS)
    assert (await ws.wait_closed())[0] == 4403
    await eventually(lambda: dedicated.live()["subscriptions"] == 0)


async def test_a_client_that_never_sends_connection_init_is_closed_with_4408(start_server):
    dedicated = start_server(GRAPHQL_WS_INIT_TIMEOUT_SECONDS="1")
    ws = await GraphQLWebSocket.open(dedicated.ws_url)
    assert (await ws.wait_closed())[0] == 4408
    # and the server carries on
    assert await asyncio.wait_for(asyncio.to_thread(dedicated.live), 10)


async def test_a_banned_users_subscriptions_end_with_4403(start_server):
    dedicated = start_server(GRAPHQL_WS_REAUTHENTICATE_SECONDS="1")
    superuser, staff = dedicated.make_user("superuser"), dedicated.make_user("staff")
    ws = await GraphQLWebSocket.signed_in(dedicated.ws_url, f"Bearer {staff['token']}")
    await subscribe_and_wait(dedicated, ws, "events")
    banned = dedicated.graphql(
        "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }",
        {"uuid": staff["uuid"]},
        token=superuser["token"],
    )
    assert banned["data"]["banUser"]["errors"] == [], banned
    assert await ws.wait_closed() == (4403, "Credentials no longer valid.")
    await eventually(lambda: dedicated.live()["subscriptions"] == 0)
