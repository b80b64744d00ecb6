"""The real ASGI application plus a few test-only endpoints, for servers that tests start.

Only tests and the benchmark run it (`uvicorn tests.live.app:application`); everything outside
`/test-only/` is `config.asgi.application` unchanged. The endpoints arrange data and look inside
the process where a test cannot otherwise see:

- POST /test-only/users      {"kind": "staff" | "driver" | "superuser" | "plain", "password"?}
                             -> {"uuid", "username", "token"}
- POST /test-only/api-keys   {"scopes": [...]} -> {"key", "name"}
- POST /test-only/api-keys/revoke  {"name"}: auth's api_key_revoke (no mutation revokes keys)
- POST /test-only/users/staff      {"uuid", "isStaff", "by"}: grant or take away staff powers, as
                             superuser `by` (the user module's user_access_update; no mutation)
- GET  /test-only/peer       -> {"client", "scheme"} of the ASGI scope the server handed over,
                             and Django's view of it: {"remoteAddr", "isSecure", "clientAddress"}
- POST /test-only/publish    {"envelope": {...}} or {"count": n, "detailType"?, "padding"?,
                             "interval"? (seconds between events)}:
                             calls events.fanout.publish as the relay does
- POST /test-only/outbox/troubled  {"state": "dead" | "retrying", "detailType"?, "error"?}
                             -> {"eventId"}: an outbox row the relay failed to send, with a
                             failed attempt on record
- POST /test-only/outbox/forget    {"eventIds": [...]}: deletes those outbox rows (and attempts)
- GET  /test-only/live       -> {"subscriptions", "accessWatchers", "hubChannel", "groupMembers",
                             "pid", …}
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any, cast

from config.asgi import application as majestic_application

if TYPE_CHECKING:
    from asgiref.typing import Scope


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _respond(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _make_user(kind: str, password: str | None) -> dict[str, Any]:
    from modules.auth.api import access_token_for
    from tests.factories import make_driver, make_staff, make_superuser, make_user

    suffix = uuid.uuid4().hex[:10]
    maker = {"staff": make_staff, "driver": make_driver, "superuser": make_superuser}.get(
        kind, make_user
    )
    user = maker(
        username=f"{kind}-{suffix}",
        phone_number=f"+1555{int(suffix, 16) % 10_000_000:07d}",
        password=password,
    )
    return {"uuid": str(user.uuid), "username": user.username, "token": access_token_for(user)}


def _make_api_key(scopes: list[str]) -> dict[str, Any]:
    from modules.auth.services import api_key_create

    created = api_key_create(name=f"test-{uuid.uuid4().hex[:10]}", scopes=scopes)
    return {"key": created.key, "name": created.name}


def _revoke_api_key(name: str) -> dict[str, Any]:
    from modules.auth.services import api_key_revoke

    api_key_revoke(name=name)
    return {"revoked": name}


def _set_staff(user_uuid: str, is_staff: bool, by: str) -> dict[str, Any]:
    from modules.user.services import user_access_update

    user_access_update(
        user_uuid=uuid.UUID(user_uuid), changed_by_uuid=uuid.UUID(by), is_staff=is_staff
    )
    return {"uuid": user_uuid, "isStaff": is_staff}


def _peer(scope: dict[str, Any]) -> dict[str, Any]:
    import io

    from django.core.handlers.asgi import ASGIRequest

    from modules.auth.api import client_address_from

    request = ASGIRequest(scope, io.BytesIO())
    return {
        "client": list(scope["client"]) if scope.get("client") else None,
        "scheme": scope.get("scheme"),
        "remoteAddr": request.META.get("REMOTE_ADDR"),
        "isSecure": request.is_secure(),
        "clientAddress": client_address_from(
            request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR")
        ),
    }


def _noise(size: int) -> str:
    return secrets.token_hex((size + 1) // 2)[:size]


def _publish(data: dict[str, Any]) -> dict[str, Any]:
    from events import fanout

    if "envelope" in data:
        fanout.publish(data["envelope"])
        return {"published": 1}
    count = int(data.get("count", 1))
    interval = float(data.get("interval", 0))  # seconds between events: the rate the relay keeps
    for n in range(count):
        if n and interval:
            time.sleep(interval)
        event_id = str(uuid.uuid4())
        fanout.publish(
            {
                "source": data.get("source", "majestic.test"),
                "detailType": data.get("detailType", "TestEvent"),
                "detail": {
                    "eventId": event_id,
                    "occurredAt": "2026-01-01T00:00:00Z",
                    "version": 1,
                    "correlationId": "",
                    "actor": {"type": "system"},
                    "data": {
                        "n": n,
                        "sentAt": time.time(),
                        # Random: websockets compress messages, and "xxx…" would shrink to nothing.
                        "padding": _noise(int(data.get("padding", 0))),
                    },
                },
            }
        )
    return {"published": count}


def _troubled_event(data: dict[str, Any]) -> dict[str, Any]:
    """An outbox row that failed to go out: `state` "dead" (out of attempts) or "retrying" (due
    in an hour), with one failed attempt on record. Written as the relay would leave it; the
    in-process relay is not woken, so it stays as it is until redriven."""
    from datetime import timedelta

    from django.utils import timezone

    from events.models import DeliveryAttempt, OutboxEvent

    now = timezone.now()
    event_id = uuid.uuid4()
    dead = data.get("state", "dead") == "dead"
    detail = {
        "eventId": str(event_id),
        "occurredAt": now.isoformat(),
        "version": 1,
        "correlationId": "",
        "actor": {"type": "system"},
        "data": {},
    }
    row = OutboxEvent.objects.create(
        event_id=event_id,
        source=data.get("source", "majestic.test"),
        detail_type=data.get("detailType", "TestEvent"),
        detail=detail,
        status=OutboxEvent.Status.DEAD if dead else OutboxEvent.Status.PENDING,
        attempts=int(data.get("attempts", 5 if dead else 1)),
        next_attempt_at=now + timedelta(hours=1),
        last_error=data.get("error", "the bus refused it"),
    )
    DeliveryAttempt.objects.create(
        event=row,
        attempted_at=now,
        outcome=DeliveryAttempt.Outcome.FAILED,
        error=row.last_error,
        duration_ms=12.5,
        worker="test-only",
    )
    return {"eventId": str(event_id)}


def _forget_events(event_ids: list[str]) -> dict[str, Any]:
    from events.models import OutboxEvent

    deleted, _ = OutboxEvent.objects.filter(event_id__in=event_ids).delete()
    return {"deleted": deleted}


def _live() -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from events import fanout

    hub = fanout._hub
    layer = get_channel_layer()
    members: list[str] | None = None
    groups = getattr(layer, "groups", None)  # the in-memory layer shows its members
    if isinstance(groups, dict):
        members = sorted(groups.get(fanout.GROUP, {}))
    return {
        "subscriptions": len(hub.subscriptions) if hub else 0,
        "accessWatchers": len(hub.access_watchers) if hub else 0,
        "buffered": sum(s.pending for s in hub.subscriptions) if hub else 0,
        "dropped": sum(s.dropped_total for s in hub.subscriptions) if hub else 0,
        "received": hub.changes if hub else 0,
        "lost": hub.lost if hub else 0,  # events that sequence numbers show never arrived
        "publisher": dataclasses.asdict(fanout.publisher.stats),
        "hubChannel": hub.channel_name if hub else None,
        "groupMembers": members,
        "pid": os.getpid(),
    }


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or not scope["path"].startswith("/test-only/"):
        await majestic_application(cast("Scope", scope), receive, send)  # the server's scope
        return
    from channels.db import database_sync_to_async

    path = scope["path"]
    data = json.loads(await _read_body(receive) or b"{}")
    if path == "/test-only/users":
        result = await database_sync_to_async(_make_user)(
            data.get("kind", "staff"), data.get("password")
        )
    elif path == "/test-only/api-keys":
        result = await database_sync_to_async(_make_api_key)(data.get("scopes", ["HEARTBEAT"]))
    elif path == "/test-only/publish":
        # From a worker thread, as the relay publishes: exercises the cross-thread hand-over.
        result = await database_sync_to_async(_publish)(data)
    elif path == "/test-only/api-keys/revoke":
        result = await database_sync_to_async(_revoke_api_key)(data["name"])
    elif path == "/test-only/users/staff":
        result = await database_sync_to_async(_set_staff)(
            data["uuid"], bool(data["isStaff"]), data["by"]
        )
    elif path == "/test-only/outbox/troubled":
        result = await database_sync_to_async(_troubled_event)(data)
    elif path == "/test-only/outbox/forget":
        result = await database_sync_to_async(_forget_events)(data["eventIds"])
    elif path == "/test-only/peer":
        result = _peer(scope)
    elif path == "/test-only/live":
        result = _live()
    else:
        await _respond(send, 404, {"error": "unknown test-only endpoint"})
        return
    await _respond(send, 200, result)
