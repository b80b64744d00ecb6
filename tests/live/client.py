"""A small graphql-transport-ws client over `websockets`, for tests and the benchmark."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WAIT = 15.0  # generous: a bound so a broken server fails the test instead of hanging it


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls, url: str, *, protocol: str = TRANSPORT_WS, **kwargs: Any
    ) -> GraphQLWebSocket:
        connection = await connect(
            url, subprotocols=[Subprotocol(protocol)], open_timeout=WAIT, **kwargs
        )
        return cls(connection)

    @classmethod
    async def signed_in(
        cls, url: str, authorization: str | None, **kwargs: Any
    ) -> GraphQLWebSocket:
        client = await cls.open(url, **kwargs)
        ack = await client.init(authorization)
        assert ack["type"] == "connection_ack", ack
        return client

    async def send(self, message: Any) -> None:
        await self.connection.send(
            message if isinstance(message, str | bytes) else json.dumps(message)
        )

    async def init(self, authorization: str | None = None) -> dict[str, Any]:
        payload = {"authorization": authorization} if authorization else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def complete(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete"})

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def receive_for(self, op_id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next message of operation `op_id`, skipping pings and other operations' messages."""
        while True:
            message = await self.receive(timeout)
            if message.get("id") == op_id:
                return message

    async def execute(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A query or mutation over the socket: its `next` payload (or the `error` message)."""
        await self.subscribe(op_id, query, variables)
        message = await self.receive_for(op_id)
        if message["type"] == "next":
            done = await self.receive_for(op_id)
            assert done["type"] == "complete", done
            return message["payload"]
        return message

    async def wait_closed(self, timeout: float = WAIT) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.connection.recv()
        except ConnectionClosed:
            pass
        close = self.connection.protocol.close_rcvd
        return (close.code, close.reason) if close else (None, "")

    async def close(self) -> None:
        await self.connection.close()

    async def __aenter__(self) -> GraphQLWebSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
