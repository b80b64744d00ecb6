"""The embedded default in a real server process: it relays its backlog at start and every
event right after the commit that made it, through the template's rules to the functions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.live.server import ROOT, LiveServer, base_environment, live_database

pytestmark = pytest.mark.live

REQUEST_CODE = """
mutation R($phone: String!) {
  requestVerificationCode(phoneNumber: $phone, purpose: SIGN_UP) { expiresAt errors { code } }
}
"""


def sent_to(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["to"] for line in path.read_text().splitlines() if line.strip()]


def wait_for(condition: Callable[[], bool], server: LiveServer, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not delivered within {seconds}s; server log:\n{server.log_tail()}")


def test_the_server_relays_the_backlog_at_start_and_new_events_right_after_commit(tmp_path):
    notifications = tmp_path / "notifications.jsonl"
    env = {
        "NOTIFICATIONS_FILE": str(notifications),
        "EVENTS_BACKEND": "local",
        "EVENTS_RELAY_IN_PROCESS": "true",
    }
    with live_database(tmp_path) as database_url:
        # A code requested by a process that committed and ended before any relay ran.
        script = (
            "from schema.transports.local_client import execute\n"
            f"result = execute({REQUEST_CODE!r}, {{'phone': '+14155550101'}},"
            " api_key_scopes=[], name='script')\n"
            "assert result['data']['requestVerificationCode']['errors'] == [], result\n"
        )
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env={
                **base_environment(),
                "DATABASE_URL": database_url,
                **env,
                "EVENTS_RELAY_IN_PROCESS": "false",
            },
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert sent_to(notifications) == []

        server = LiveServer(database_url, tmp_path / "server.log", **env)
        try:
            server.start()
            wait_for(lambda: "+14155550101" in sent_to(notifications), server)

            result = server.graphql(REQUEST_CODE, {"phone": "+14155550102"})
            assert result["data"]["requestVerificationCode"]["errors"] == []
            wait_for(lambda: "+14155550102" in sent_to(notifications), server)
        finally:
            server.close()
    assert sorted(sent_to(notifications)) == ["+14155550101", "+14155550102"]
