"""What a newcomer sees on `make run`: a taken port refused before anything is migrated, the
addresses and demo accounts printed last once the server listens, `/` leading to GraphiQL."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live.server import ROOT, base_environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_bare_address_leads_to_graphiql(client):
    response = client.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    assert response["Location"] == "/graphql/"


def test_make_run_on_a_taken_port_stops_before_migrate_and_names_port(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        database = tmp_path / "never-made.sqlite3"
        result = subprocess.run(
            # -o: the installed environment counts as up to date (the test runs inside it).
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"PORT={port}"],
            cwd=ROOT,
            env={**base_environment(), "DATABASE_URL": f"sqlite:///{database}"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is taken" in output
    assert f"make run PORT={port + 1}" in output
    assert "Migrating" not in output and not database.exists()


@pytest.mark.live
def test_the_server_prints_its_addresses_and_demo_accounts_once_it_listens(tmp_path: Path):
    port = free_port()
    env = {**base_environment(), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "config.devserver", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        watcher = selectors.DefaultSelector()
        watcher.register(process.stdout, selectors.EVENT_READ)
        output = b""
        deadline = time.monotonic() + 60
        while b"Demo accounts" not in output or not output.rstrip().endswith(b"(signInWithCode)"):
            assert time.monotonic() < deadline, output.decode()
            assert process.poll() is None, output.decode()
            if watcher.select(timeout=1):
                output += process.stdout.read() or b""
        # Printed once the server listens: it answers right away.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code in (200, 503)
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = output.decode()
    banner = text[text.index("Majestic is running") :]
    base = f"http://127.0.0.1:{port}"
    for address in ("/graphql/", "/ops/", "/admin/", "/healthz"):
        assert f"{base}{address}" in banner, banner
    assert "username demo-staff, password majestic-demo" in banner
    assert "phone +15550000001, code 123456" in banner
    assert text.index("Uvicorn running") < text.index("Majestic is running")
