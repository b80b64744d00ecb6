"""A heavy request cannot starve the others: GRAPHQL_STATEMENT_TIMEOUT_MS cuts a statement short
(STATEMENT_TIMEOUT), and a request that finds every pooled connection busy for
DATABASE_POOL_TIMEOUT_SECONDS gets SERVER_BUSY; neither is a 500."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="statement_timeout is PostgreSQL's",
    ),
]

TRANSPORTS = "{ transports(first: 5) { edges { node { uuid status } } } }"


def test_a_read_stuck_past_the_timeout_gets_a_coded_error_and_the_next_one_is_served(
    start_server, live_database_url
):
    server = start_server(GRAPHQL_STATEMENT_TIMEOUT_MS="300")
    staff = server.make_user("staff")
    assert "errors" not in server.graphql(TRANSPORTS, token=staff["token"])

    # Another session holds the table: the read waits, and the database gives up on it.
    with psycopg.connect(live_database_url) as blocker:
        blocker.execute("LOCK TABLE shipping_transport IN ACCESS EXCLUSIVE MODE")
        response = server._http.post(
            "/graphql/",
            json={"query": TRANSPORTS},
            headers={"Authorization": f"Bearer {staff['token']}"},
        )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "STATEMENT_TIMEOUT"}
    assert error["path"] == ["transports"]
    assert "300 ms" in error["message"] and "shipping_transport" not in error["message"]

    # The lock is gone: the same read is served again on the same pool.
    assert "errors" not in server.graphql(TRANSPORTS, token=staff["token"])


def test_a_request_that_finds_every_connection_busy_gets_server_busy_not_a_500(
    start_server, live_database_url
):
    server = start_server(
        DATABASE_POOL_MIN="1",
        DATABASE_POOL_MAX="2",
        DATABASE_POOL_TIMEOUT_SECONDS="0.5",
        GRAPHQL_STATEMENT_TIMEOUT_MS="30000",
        EVENTS_RELAY_IN_PROCESS="0",
    )
    staff = server.make_user("staff")
    headers = {"Authorization": f"Bearer {staff['token']}"}

    def post() -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            return client.post("/graphql/", json={"query": TRANSPORTS}, headers=headers)

    with (
        psycopg.connect(live_database_url, autocommit=True) as watcher,
        psycopg.connect(live_database_url) as blocker,
        ThreadPoolExecutor(2) as pool,
    ):
        blocker.execute("LOCK TABLE shipping_transport IN ACCESS EXCLUSIVE MODE")
        # As many stuck requests as the pool has connections ...
        stuck = [pool.submit(post) for _ in range(2)]
        for _ in range(300):
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if waiting and waiting[0] == 2:
                break
            time.sleep(0.05)
        # ... and one more request finds none free.
        busy = post()
        blocker.rollback()  # the lock goes; the stuck requests finish
        finished = [future.result(60) for future in stuck]

    body = busy.json()
    # The token check is the first to need a connection: refused before any execution.
    assert (busy.status_code, busy.headers.get("Retry-After")) == (503, "1")
    assert body["errors"][0]["extensions"]["code"] == "SERVER_BUSY", body
    assert all(r.status_code == 200 and "errors" not in r.json() for r in finished)
    assert "errors" not in server.graphql(TRANSPORTS, token=staff["token"])
