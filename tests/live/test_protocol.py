"""GraphQL over websockets against a real server: the protocol, authentication and bad input.

Every misbehaving client gets the close code or error the protocol names, and a bystander
subscribed on another connection keeps receiving its events afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.live.client import LEGACY_WS, WAIT, GraphQLWebSocket
from tests.live.fixtures import DOMAIN_EVENTS, eventually, subscribe_and_wait

pytestmark = pytest.mark.live


# --- authentication and queries ---------------------------------------------------------------


async def test_a_query_over_the_socket_answers_as_the_signed_in_user(server, staff):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        payload = await ws.execute("me", "{ me { uuid username } }")
    assert payload["data"] == {"me": {"uuid": staff["uuid"], "username": staff["username"]}}
    assert payload["extensions"]["cost"]["actualQueryCost"] == 1  # as over HTTP


async def test_the_token_may_also_come_in_the_handshake_header(server, staff):
    headers = {"Authorization": staff["authorization"]}
    async with await GraphQLWebSocket.signed_in(
        server.ws_url, None, additional_headers=headers
    ) as ws:
        payload = await ws.execute("me", "{ me { uuid } }")
    assert payload["data"]["me"]["uuid"] == staff["uuid"]


async def test_an_anonymous_connection_is_accepted_but_me_is_refused(server):
    async with await GraphQLWebSocket.signed_in(server.ws_url, None) as ws:
        payload = await ws.execute("me", "{ me { uuid } }")
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Api-Key nope", "Basic dXNlcjpwYXNz", 42],
    ids=["bad-jwt", "bad-key", "other-scheme", "not-a-string"],
)
async def test_invalid_credentials_close_the_connection_with_4403(server, bystander, authorization):
    ws = await GraphQLWebSocket.open(server.ws_url)
    await ws.send({"type": "connection_init", "payload": {"authorization": authorization}})
    assert await ws.wait_closed() == (4403, "Forbidden")
    await bystander.assert_still_served()


async def test_a_validation_error_is_an_error_message_and_the_connection_stays(server, staff):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("bad", "{ noSuchField }")
        error = await ws.receive_for("bad")
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        payload = await ws.execute("me", "{ me { uuid } }")
        assert payload["data"]["me"]["uuid"] == staff["uuid"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
        ("query A { __typename } query B { __typename }", "BAD_REQUEST"),
        ("{ " + "__typename " * 3000 + "}", "QUERY_TOO_COMPLEX"),
    ],
    ids=["syntax-error", "which-operation", "too-many-tokens"],
)
async def test_request_errors_are_error_messages_with_a_code(server, staff, query, code):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("bad", query)
        error = await ws.receive_for("bad")
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == code
        payload = await ws.execute("me", "{ me { uuid } }")
        assert payload["data"]["me"]["uuid"] == staff["uuid"]


async def test_ping_gets_pong(server, staff):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.send({"type": "ping"})
        assert await ws.receive() == {"type": "pong"}


# --- subscriptions: permissions and filters ------------------------------------------------------


async def test_staff_receive_delivered_events_with_their_detail(server, staff):
    detail_type = f"Checked{uuid.uuid4().hex[:8]}"
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await subscribe_and_wait(server, ws, "events", {"detailTypes": [detail_type]})
        server.publish(detailType=detail_type, source="majestic.shipping")
        message = await ws.receive_for("events")
    event = message["payload"]["data"]["domainEvents"]
    assert event["detailType"] == detail_type
    assert event["source"] == "majestic.shipping"
    assert event["eventId"] == event["detail"]["eventId"]
    assert event["occurredAt"].startswith("2026-01-01T00:00:00")
    assert set(event["detail"]) >= {
        "eventId",
        "occurredAt",
        "version",
        "correlationId",
        "actor",
        "data",
    }


async def test_filters_pick_events_by_detail_type_and_source(server, staff):
    wanted = f"Wanted{uuid.uuid4().hex[:8]}"
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await subscribe_and_wait(
            server, ws, "picky", {"detailTypes": [wanted], "sources": ["majestic.shipping"]}
        )
        server.publish(detailType=wanted, source="majestic.user")  # wrong source
        server.publish(detailType="SomethingElse", source="majestic.shipping")  # wrong type
        server.publish(detailType=wanted, source="majestic.shipping", padding=3)
        message = await ws.receive_for("picky")
    assert len(message["payload"]["data"]["domainEvents"]["detail"]["data"]["padding"]) == 3


async def test_an_events_key_may_watch_domain_events(server):
    key = server.make_api_key("EVENTS")
    detail_type = f"ForMachines{uuid.uuid4().hex[:8]}"
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Api-Key {key}") as ws:
        await subscribe_and_wait(server, ws, "events", {"detailTypes": [detail_type]})
        server.publish(detailType=detail_type)
        message = await ws.receive_for("events")
    assert message["payload"]["data"]["domainEvents"]["detailType"] == detail_type


@pytest.mark.parametrize(("kind", "code"), [("driver", "FORBIDDEN"), (None, "UNAUTHENTICATED")])
async def test_drivers_and_anonymous_callers_may_not_watch_domain_events(server, kind, code):
    authorization = f"Bearer {server.make_user(kind)['token']}" if kind else None
    async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as ws:
        await ws.subscribe("events", DOMAIN_EVENTS)
        message = await ws.receive_for("events")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == code


async def test_too_many_filter_values_are_refused_with_a_code(server, staff):
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        await ws.subscribe("events", DOMAIN_EVENTS, {"detailTypes": [f"T{n}" for n in range(51)]})
        message = await ws.receive_for("events")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_legacy_graphql_ws_protocol_also_delivers_events(server, staff):
    detail_type = f"Legacy{uuid.uuid4().hex[:8]}"
    async with await GraphQLWebSocket.open(server.ws_url, protocol=LEGACY_WS) as ws:
        await ws.send(
            {"type": "connection_init", "payload": {"authorization": staff["authorization"]}}
        )
        assert (await ws.receive())["type"] == "connection_ack"
        before = server.live()["subscriptions"]
        await ws.send(
            {
                "id": "1",
                "type": "start",
                "payload": {"query": DOMAIN_EVENTS, "variables": {"detailTypes": [detail_type]}},
            }
        )
        await eventually(lambda: server.live()["subscriptions"] > before)
        server.publish(detailType=detail_type)
        message = await ws.receive()
    assert message["type"] == "data"
    assert message["payload"]["data"]["domainEvents"]["detailType"] == detail_type


# --- bad input -----------------------------------------------------------------------------------


async def test_subscribe_before_connection_init_closes_with_4401(server, bystander):
    ws = await GraphQLWebSocket.open(server.ws_url)
    await ws.subscribe("early", DOMAIN_EVENTS)
    assert (await ws.wait_closed())[0] == 4401
    await bystander.assert_still_served()


async def test_a_second_connection_init_closes_with_4429(server, staff, bystander):
    ws = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    await ws.send({"type": "connection_init", "payload": {"authorization": staff["authorization"]}})
    assert (await ws.wait_closed())[0] == 4429
    await bystander.assert_still_served()


async def test_a_duplicate_operation_id_closes_with_4409(server, staff, bystander):
    ws = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    await ws.subscribe("same", DOMAIN_EVENTS)
    await ws.subscribe("same", DOMAIN_EVENTS)
    assert (await ws.wait_closed())[0] == 4409
    await bystander.assert_still_served()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "nonsense"},
        {"type": 7},
        {"no": "type"},
        [1, 2, 3],
        "just a string",
        {"type": "subscribe", "id": "1", "payload": None},
        {"type": "subscribe", "id": "1", "payload": {"query": 5}},
        {"type": "subscribe", "id": 1, "payload": {"query": "{ me { uuid } }"}},
        {"type": "subscribe", "id": "1", "payload": {"query": "{ me { uuid } }", "variables": []}},
        {"type": "complete"},
        "not json at all {",
        "[" * 100_000,
        b"\x00\x01binary",
    ],
    ids=[
        "unknown-type",
        "numeric-type",
        "no-type",
        "array",
        "json-string",
        "null-payload",
        "query-not-a-string",
        "numeric-id",
        "variables-not-an-object",
        "complete-without-id",
        "not-json",
        "nested-too-deep",
        "binary-frame",
    ],
)
async def test_malformed_messages_close_with_4400(server, staff, bystander, message):
    ws = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    await ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
    assert (await ws.wait_closed())[0] == 4400
    await bystander.assert_still_served()


async def test_a_message_over_the_size_limit_closes_with_1009(server, staff, bystander):
    ws = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    huge = "x" * 2_000_000
    await ws.subscribe("huge", "query Huge($v: String) { __typename }", {"v": huge})
    assert (await ws.wait_closed())[0] == 1009
    await bystander.assert_still_served()


async def test_a_connection_without_a_known_subprotocol_is_closed_with_4406(server):
    async with connect(server.ws_url, subprotocols=[Subprotocol("chat")], open_timeout=WAIT) as ws:
        with pytest.raises(Exception):  # noqa: B017 - any close is fine here, the code is checked
            await asyncio.wait_for(ws.recv(), WAIT)
    assert ws.close_code == 4406


async def test_ten_thousand_subscribe_messages_get_errors_or_a_close_and_leave_nothing_behind(
    server, staff, bystander
):
    before = server.live()["subscriptions"]
    ws = await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"])
    messages = [
        json.dumps({"id": f"op{n}", "type": "subscribe", "payload": {"query": DOMAIN_EVENTS}})
        for n in range(10_000)
    ]
    for text in messages:  # as fast as the socket takes them
        await ws.connection.send(text)
    errors, close_code = 0, None
    try:
        while errors < 10_000 - 100:
            message = await ws.receive()
            if message.get("type") == "error":
                assert message["payload"][0]["message"] == "Subscription limit reached"
                errors += 1
    except Exception:  # the server may instead close a client that floods it
        close_code = ws.connection.close_code
    assert errors == 10_000 - 100 or close_code == 1008, (errors, close_code)
    await ws.close()
    await eventually(lambda: server.live()["subscriptions"] == before)
    await bystander.assert_still_served()
    assert httpx.get(f"{server.url}/healthz").status_code == 200
