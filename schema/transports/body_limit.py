"""A limit on HTTP request bodies, applied while they arrive, before Django reads them.

Django's ASGI handler spools the whole body to a temporary file before any view runs, and
DATA_UPLOAD_MAX_MEMORY_SIZE leaves multipart files out: a chunked upload (no Content-Length)
could fill the disk before the GraphQL view could refuse it, and anonymously. Here a body larger
than the limit (the larger of GRAPHQL_MAX_BODY_BYTES and a CSV upload with its form) is refused
with 413: at once when Content-Length says so, else as soon as the bytes received pass it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from django.conf import settings

from schema.transports.http import MULTIPART_OVERHEAD_BYTES

# Loose on purpose: Django's ASGIHandler and uvicorn each type these their own way.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

TOO_LARGE = orjson.dumps(
    {
        "errors": [
            {
                "message": "The request body is too large.",
                "extensions": {"code": "REQUEST_TOO_LARGE"},
            }
        ]
    }
)


def body_limit() -> int:
    return max(
        settings.GRAPHQL_MAX_BODY_BYTES, settings.JOBS_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    )


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send)
            return
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True  # Django sees the client gone and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if over and not started:
            await _refuse(send)


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})
