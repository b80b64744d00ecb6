"""domainEvents(after:): a subscriber that missed events replays them from the outbox, and one
whose Redis froze either gets every event or is told where its gap starts, and fills it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait
from tests.live.logistics import create_center
from tests.live.server import LiveServer
from tests.redis_process import own_redis

pytestmark = pytest.mark.live

CENTERS_CREATED = {"detailTypes": ["DistributionCenterCreated"]}
REPLAY = """
subscription Replay($after: ID, $detailTypes: [String!]) {
  domainEvents(after: $after, detailTypes: $detailTypes) { eventId detailType detail }
}
"""


def center_code(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["centerCode"])


async def next_event(ws: GraphQLWebSocket, op_id: str) -> dict[str, Any]:
    message = await ws.receive_for(op_id)
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["domainEvents"]


async def centers_seen(server: LiveServer, staff: dict[str, Any], count: int) -> list[dict]:
    """Create `count` centers while watching: their events, as delivered."""
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await subscribe_and_wait(server, ws, "watch", CENTERS_CREATED)
        codes = [create_center(server, staff["token"]) for _ in range(count)]
        events = [await next_event(ws, "watch") for _ in codes]
    assert [center_code(e) for e in events] == codes
    return events


async def test_a_subscriber_replays_what_was_delivered_after_an_event_then_goes_on_live(
    server, staff
):
    first, *missed = await centers_seen(server, staff, 3)
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("replay", REPLAY, {"after": first["eventId"], **CENTERS_CREATED})
        replayed = [await next_event(ws, "replay") for _ in missed]
        assert [e["eventId"] for e in replayed] == [e["eventId"] for e in missed]
        # Then live, and an event both replayed and heard live comes once.
        code = create_center(server, staff["token"])
        assert center_code(await next_event(ws, "replay")) == code


@pytest.mark.parametrize(
    ("after", "code"),
    [("not-an-event-id", "BAD_USER_INPUT"), (str(uuid.uuid4()), "EVENT_NOT_FOUND")],
    ids=["malformed", "unknown"],
)
async def test_replaying_after_an_unknown_event_is_refused_with_a_code(server, staff, after, code):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("replay", REPLAY, {"after": after})
        message = await ws.receive_for("replay")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == code


async def test_a_replay_longer_than_the_limit_is_refused_and_one_at_the_limit_is_given(
    start_server, live_database_url
):
    server = start_server(LIVE_REPLAY_MAX_EVENTS="2")
    user = server.make_user("staff")
    staff = {**user, "authorization": f"Bearer {user['token']}"}
    first, second, *_ = await centers_seen(server, staff, 4)
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("long", REPLAY, {"after": first["eventId"], **CENTERS_CREATED})
        refused = await ws.receive_for("long")
        await ws.subscribe("fits", REPLAY, {"after": second["eventId"], **CENTERS_CREATED})
        given = [await next_event(ws, "fits") for _ in range(2)]
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"] == {"code": "REPLAY_TOO_LONG", "max": 2}
    assert len(given) == 2


async def test_a_subscriber_whose_redis_froze_gets_every_event_or_a_notice_and_fills_the_gap(
    start_server,
):
    with own_redis() as redis:
        server = start_server(
            REDIS_URL=redis.url,
            CHANNEL_LAYER_PREFIX=f"majestic.freeze{uuid.uuid4().hex[:6]}.",
            LIVE_PUBLISH_TIMEOUT_SECONDS="1",
        )
        user = server.make_user("staff")
        staff = {**user, "authorization": f"Bearer {user['token']}"}
        async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
            await subscribe_and_wait(server, ws, "watch", CENTERS_CREATED)
            before = create_center(server, staff["token"])
            kept = [await next_event(ws, "watch")]
            assert center_code(kept[0]) == before

            redis.freeze()
            try:
                codes = [create_center(server, staff["token"]) for _ in range(5)]
                await asyncio.sleep(12)  # longer than Redis' clients wait before reconnecting
            finally:
                redis.thaw()
            marker = create_center(server, staff["token"])  # once it arrives, all before did

            notices: list[dict[str, Any]] = []
            while center_code(kept[-1]) != marker:
                message = await ws.receive_for("watch", timeout=60)
                errors = message["payload"].get("errors")
                if errors:
                    assert errors[0]["extensions"]["code"] == "EVENTS_DROPPED", errors
                    notices.append(errors[0]["extensions"])
                else:
                    kept.append(message["payload"]["data"]["domainEvents"])

        missing = set(codes) - {center_code(e) for e in kept}
        if missing:  # lost live: never without a word, and the replay fills the gap
            assert notices, f"{len(missing)} events vanished without a notice"
            async with await GraphQLWebSocket.signed_in(
                server.ws_url, staff["authorization"]
            ) as ws:
                await ws.subscribe(
                    "fill", REPLAY, {"after": notices[0]["after"], **CENTERS_CREATED}
                )
                filled: set[str] = set()
                while marker not in filled:
                    filled.add(center_code(await next_event(ws, "fill")))
            assert missing <= filled
