"""How soon a ban reaches an open websocket, against how long the ban itself takes over HTTP.

`python -m bench.access_revocation [--rounds N]`: one live server (tests/live/server.py) on a fresh
SQLite database, whose sockets re-check their credentials only every 600 s. Each round opens a
banned-to-be staff member's socket with a running subscription, times the `banUser` request
(the baseline: what HTTP callers wait for) and the moment the socket is closed with 4403 (the
announcement through the live hub). Prints medians and the ratio close / ban request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait
from tests.live.server import LiveServer, live_database

BAN = "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }"


async def one_round(server: LiveServer, superuser_token: str) -> tuple[float, float]:
    victim = server.make_user("staff")
    ws = await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {victim['token']}")
    await subscribe_and_wait(server, ws, "events", {"detailTypes": ["Nothing"]})
    started = time.perf_counter()
    result = server.graphql(BAN, {"uuid": victim["uuid"]}, token=superuser_token)
    banned = time.perf_counter()
    assert result["data"]["banUser"]["errors"] == [], result
    code, _ = await ws.wait_closed(timeout=30)
    closed = time.perf_counter()
    assert code == 4403, code
    return (banned - started) * 1000, (closed - started) * 1000


async def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder, live_database(Path(folder)) as url:
        server = LiveServer(
            url, Path(folder) / "server.log", GRAPHQL_WS_REAUTHENTICATE_SECONDS="600"
        ).start()
        try:
            superuser = server.make_user("superuser")
            figures = [await one_round(server, superuser["token"]) for _ in range(rounds)]
        finally:
            server.close()
    ban_ms = statistics.median(f[0] for f in figures)
    close_ms = statistics.median(f[1] for f in figures)
    print(f"rounds: {rounds} (periodic re-check every 600 s, so only the push can close in time)")
    print(f"banUser over HTTP, median:           {ban_ms:7.1f} ms")
    slowest = max(f[1] for f in figures)
    print(f"ban -> socket closed (4403), median: {close_ms:7.1f} ms (max {slowest:.1f})")
    print(f"ratio close / ban request:           {close_ms / ban_ms:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
