"""bulkJobUpdates over a real websocket against a live server whose own worker thread runs the
job (the embedded default): the job while it runs, then its end, then the subscription completes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.live.client import GraphQLWebSocket

pytestmark = pytest.mark.live

UPDATES = """
subscription($id: ID!) { bulkJobUpdates(id: $id) { id status total processed failed } }
"""
IMPORT = """
mutation($items: [CreateShippingItemInput!]!) {
  importShippingItems(input: {items: $items}) { bulkJob { id } errors { code } }
}
"""


def start_import(server: Any, token: str, rows: int) -> str:
    items = [{"sku": f"LIVE-{n}"} for n in range(rows)]
    result = server.graphql(IMPORT, {"items": items}, token=token)
    payload = result["data"]["importShippingItems"]
    assert payload["errors"] == [], payload
    job_id: str = payload["bulkJob"]["id"]
    return job_id


async def test_a_watcher_sees_the_job_progress_and_end(start_server):
    server = start_server(JOBS_CHUNK_SIZE="10", JOBS_UPDATES_SECONDS="0.2")
    staff = server.make_user("staff")
    job_id = start_import(server, staff["token"], 600)
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {staff['token']}") as ws:
        await ws.subscribe("job", UPDATES, {"id": job_id})
        updates = []
        # A job that never runs still gets a push every second: bound the whole watch.
        async with asyncio.timeout(120):
            while True:
                message = await ws.receive_for("job", timeout=60)
                if message["type"] == "complete":
                    break
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                updates.append(message["payload"]["data"]["bulkJobUpdates"])
    assert updates[-1] == {
        "id": job_id,
        "status": "SUCCEEDED",
        "total": 600,
        "processed": 600,
        "failed": 0,
    }
    processed = [update["processed"] for update in updates]
    assert processed == sorted(processed)
    # Only the last push shows the job ended.
    assert all(u["status"] in ("QUEUED", "RUNNING") for u in updates[:-1])


async def test_nobody_watches_another_users_job(start_server):
    server = start_server()
    staff = server.make_user("staff")
    driver = server.make_user("driver")
    job_id = start_import(server, staff["token"], 1)
    codes = []
    for authorization in (f"Bearer {driver['token']}", None):
        async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as ws:
            await ws.subscribe("job", UPDATES, {"id": job_id})
            message = await ws.receive_for("job", timeout=30)
        assert message["type"] in ("error", "next"), message
        payload = message["payload"]
        errors = payload if message["type"] == "error" else payload["errors"]
        codes.append([e["extensions"]["code"] for e in errors])
    # Not yours: the answer a missing job gets. Signed out: not even that.
    assert codes == [["NOT_FOUND"], ["UNAUTHENTICATED"]]
