"""A NUL character (U+0000) sent over the websocket: refused like any bad input, never a crash.

PostgreSQL refuses text holding NUL. A key with one in connection_init used to reach the database
and close the connection as an internal error (1011); it is now just a wrong key (4403). A NUL in
an operation's variables is a BAD_USER_INPUT error, and the connection stays open.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import DOMAIN_EVENTS

pytestmark = pytest.mark.live


def with_nul_in_prefix(key: str) -> str:
    prefix, _, secret = key.partition(".")
    return f"{prefix[:4]}\u0000{prefix[4:]}.{secret}"


@pytest.mark.parametrize("kind", ["made-up-key", "real-key", "token", "lone-surrogate"])
async def test_a_nul_in_the_connection_init_credentials_closes_with_4403(server, bystander, kind):
    authorization = {
        "made-up-key": "Api-Key abc\u0000def.secret",
        "real-key": f"Api-Key {with_nul_in_prefix(server.make_api_key('NOTIFICATION'))}",
        "token": "Bearer abc\u0000def",
        # Not a NUL, but JSON can carry it and no encoder takes it: just as much not a key.
        "lone-surrogate": "Api-Key abc\ud800def.secret",
    }[kind]
    ws = await GraphQLWebSocket.open(server.ws_url)
    await ws.send({"type": "connection_init", "payload": {"authorization": authorization}})
    assert await ws.wait_closed() == (4403, "Forbidden")
    await bystander.assert_still_served()


async def test_a_nul_in_a_variable_is_an_error_message_and_the_connection_stays(server, staff):
    sign_in = """
    mutation($username: String!) {
      signInWithPassword(username: $username, password: "x") { errors { code } }
    }"""
    async with await GraphQLWebSocket.signed_in(server.ws_url, staff["authorization"]) as ws:
        operations: list[tuple[str, str, dict[str, Any]]] = [
            ("sign-in", sign_in, {"username": "staff\u0000"}),
            ("events", DOMAIN_EVENTS, {"detailTypes": ["Item\u0000Created"]}),
        ]
        for op_id, query, variables in operations:
            await ws.subscribe(op_id, query, variables)
            error = await ws.receive_for(op_id)
            assert error["type"] == "error", error
            assert [e["extensions"]["code"] for e in error["payload"]] == ["BAD_USER_INPUT"]
            assert "NUL" in error["payload"][0]["message"]
        payload = await ws.execute("me", "{ me { uuid } }")
    assert payload["data"]["me"]["uuid"] == staff["uuid"]
