"""Trusted documents over websockets against real servers: graphql-transport-ws subscribe
payloads name documents by id; refusals are `error` messages and the connection stays open."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from tests.live.client import LEGACY_WS, GraphQLWebSocket
from tests.live.fixtures import eventually
from tests.live.server import _run_manage

pytestmark = pytest.mark.live

TYPENAME = "query Typename { __typename }"
EVENTS = 'subscription Events { domainEvents(detailTypes: ["Trusted"]) { detailType } }'


def id_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def register(server, tmp_path: Path, *bodies: str) -> None:
    """As a deployment does: `manage.py trusted_documents import`, another process than the
    server's, against its database."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({id_of(body): body for body in bodies}))
    _run_manage(server.env, "trusted_documents", "import", str(manifest))


async def run(ws: GraphQLWebSocket, op_id: str, payload: dict) -> dict:
    """Subscribe with `payload`; the operation's first message (`next` or `error`)."""
    await ws.send({"id": op_id, "type": "subscribe", "payload": payload})
    return await ws.receive_for(op_id)


def code(message: dict) -> str:
    assert message["type"] == "error", message
    return message["payload"][0]["extensions"]["code"]


@pytest.fixture
def requiring(start_server):
    return start_server(GRAPHQL_TRUSTED_DOCUMENTS="require")


async def test_require_runs_registered_ids_and_refuses_the_rest_over_one_connection(
    requiring, tmp_path
):
    register(requiring, tmp_path, TYPENAME)
    async with await GraphQLWebSocket.signed_in(requiring.ws_url, None) as ws:
        by_id = await run(ws, "1", {"documentId": id_of(TYPENAME)})
        assert (by_id["id"], by_id["type"]) == ("1", "next")
        assert by_id["payload"]["data"] == {"__typename": "Query"}
        free_text = {"query": "{ __typename }"}  # not a registered document
        assert code(await run(ws, "2", free_text)) == "PERSISTED_QUERY_ID_REQUIRED"
        unknown = await run(ws, "3", {"documentId": id_of("{ nothing }")})
        assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        assert code(await run(ws, "4", {"documentId": "sha256:nope"})) == (
            "PERSISTED_QUERY_ID_MALFORMED"
        )
        mismatch = {"documentId": id_of(TYPENAME), "query": "{ __typename }"}
        assert code(await run(ws, "5", mismatch)) == "PERSISTED_QUERY_HASH_MISMATCH"
        apq = {"persistedQuery": {"version": 1, "sha256Hash": id_of(TYPENAME)[7:]}}
        again = await run(ws, "6", {"extensions": apq})  # the connection is still open
        assert again["type"] == "next" and again["payload"]["data"] == {"__typename": "Query"}


async def test_require_lets_staff_send_text_and_subscribe_by_id(requiring, tmp_path):
    register(requiring, tmp_path, EVENTS)
    staff = requiring.make_user("staff")
    async with await GraphQLWebSocket.signed_in(requiring.ws_url, f"Bearer {staff['token']}") as ws:
        text = await run(ws, "1", {"query": "{ me { username } }"})
        assert text["payload"]["data"] == {"me": {"username": staff["username"]}}
        await ws.send({"id": "2", "type": "subscribe", "payload": {"documentId": id_of(EVENTS)}})
        await eventually(lambda: requiring.live()["subscriptions"] >= 1)
        requiring.publish(detailType="Trusted")
        event = await ws.receive_for("2")
        assert event["payload"]["data"] == {"domainEvents": {"detailType": "Trusted"}}


async def test_require_holds_for_the_legacy_protocol_too(requiring):
    ws = await GraphQLWebSocket.open(requiring.ws_url, protocol=LEGACY_WS)
    async with ws:
        await ws.send({"type": "connection_init", "payload": {}})
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.send({"id": "1", "type": "start", "payload": {"query": "{ __typename }"}})
        refused = await ws.receive_for("1")
        assert refused["type"] == "error"
        assert refused["payload"]["extensions"]["code"] == "PERSISTED_QUERY_ID_REQUIRED"


async def test_off_refuses_an_id_alone_and_runs_text(server):
    async with await GraphQLWebSocket.signed_in(server.ws_url, None) as ws:
        assert code(await run(ws, "1", {"documentId": id_of(TYPENAME)})) == (
            "PERSISTED_QUERY_NOT_SUPPORTED"
        )
        text = await run(ws, "2", {"query": TYPENAME})
        assert text["payload"]["data"] == {"__typename": "Query"}


async def test_allow_registers_by_apq_over_the_socket(start_server):
    allowing = start_server(GRAPHQL_TRUSTED_DOCUMENTS="allow")
    body = f"query Fresh{uuid.uuid4().hex} {{ __typename }}"  # registrations outlive a run
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": id_of(body)[7:]}}
    async with await GraphQLWebSocket.signed_in(allowing.ws_url, None) as ws:
        assert code(await run(ws, "1", {"extensions": extensions})) == ("PERSISTED_QUERY_NOT_FOUND")
        registered = await run(ws, "2", {"query": body, "extensions": extensions})
        assert registered["payload"]["data"] == {"__typename": "Query"}
        by_hash = await run(ws, "3", {"extensions": extensions})
        assert by_hash["payload"]["data"] == {"__typename": "Query"}


async def test_a_subscribe_without_text_or_id_is_still_malformed(server):
    ws = await GraphQLWebSocket.open(server.ws_url)
    async with ws:
        await ws.init(None)
        await ws.send({"id": "1", "type": "subscribe", "payload": {"variables": {}}})
        assert (await ws.wait_closed())[0] == 4400
