"""Request bodies over the limit are refused while they arrive, whether or not the client says
how long they are: Django never spools them (a chunked upload could otherwise fill the disk)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.asgi import get_asgi_application

from schema.transports.body_limit import BodyLimit, body_limit

CHUNK = 64 * 1024


def scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql/",
        "raw_path": b"/graphql/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


class Client:
    """Sends `total` bytes in chunks (or forever), and records what the server answered."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.sent = 0
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        size = CHUNK if self.total is None else min(CHUNK, self.total - self.sent)
        self.sent += size
        more = self.total is None or self.sent < self.total
        return {"type": "http.request", "body": b"x" * size, "more_body": more}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")


async def echo_length(scope: Any, receive: Any, send: Any) -> None:
    """An app that reads the whole body, as Django does, and answers with its length."""
    length = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        length += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(length).encode()})


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read():
    client = Client(total=None)
    headers = [(b"content-length", str(body_limit() + 1).encode())]
    await BodyLimit(echo_length)(scope(headers), client.receive, client.send)
    assert client.status == 413
    assert client.sent == 0


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)], ids=["at", "one over"])
async def test_a_chunked_body_is_measured_as_it_arrives(extra, status):
    client = Client(total=body_limit() + extra)
    await BodyLimit(echo_length)(scope([]), client.receive, client.send)
    assert client.status == status


async def test_an_endless_chunked_upload_to_django_stops_just_past_the_limit():
    client = Client(total=None)
    headers = [(b"content-type", b"multipart/form-data; boundary=x")]
    # Django's own ASGI handler (config.asgi would start the in-process relay and jobs worker).
    await BodyLimit(get_asgi_application())(scope(headers), client.receive, client.send)
    assert client.status == 413
    assert b"REQUEST_TOO_LARGE" in b"".join(m.get("body", b"") for m in client.messages)
    assert client.sent <= body_limit() + CHUNK
