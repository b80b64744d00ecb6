"""The production process model as tests run it: the Procfile's own commands, in real processes.

`procfile()` reads the Procfile `make serve-prod` hands honcho (compose.yaml runs the same
commands; tests/stack/test_packaging.py holds them together). `Gateway` runs its `web` command
(gunicorn, config/gunicorn.py, uvicorn workers) on a socket this process owns, `Relay` its
`relay` command. `worker_serving` tells which gunicorn worker holds the server end of a client's
TCP connection, from /proc (Linux), so a test can put a subscriber on one worker and send
mutations through another.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.live.server import ROOT, LiveServer

PROCFILE = ROOT / "Procfile"


def procfile(path: Path = PROCFILE) -> dict[str, str]:
    """Process type -> command line, as honcho reads the file."""
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def runnable(command: str) -> list[str]:
    """The Procfile's command with this interpreter for `python` and for the console scripts."""
    words = shlex.split(command)
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    return [sys.executable, "-m", words[0], *words[1:]]


class Gateway(LiveServer):
    """The Procfile's `web` process; the socket is handed over (`fd://`, which the command line's
    --bind makes win over config/gunicorn.py's HOST and PORT)."""

    def command(self) -> list[str]:
        return [*runnable(procfile()["web"]), "--bind", f"fd://{self.sock.fileno()}"]

    def worker_pids(self) -> list[int]:
        master = self.pid
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    children.append(int(entry.name))
        return sorted(children)


class Relay:
    """The Procfile's `relay` process (`manage.py relay_events`)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        log = log_path.open("ab")
        self.log_path = log_path
        self.process = subprocess.Popen(
            runnable(procfile()["relay"]), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    """The socket inode of the server's end of 127.0.0.1:client_port -> :server_port."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return inode
    return None


def worker_serving(gateway: Gateway, client_port: int) -> int | None:
    """Which worker process accepted the connection from `client_port` (None: not found yet)."""
    server_port = int(gateway.url.rsplit(":", 1)[1])
    inode = _server_side_inode(server_port, client_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in gateway.worker_pids():
        fds = Path(f"/proc/{pid}/fd")
        try:
            for fd in fds.iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


class PinnedHttp:
    """GraphQL over one kept-alive HTTP connection, so every request reaches the same worker."""

    def __init__(self, gateway: Gateway) -> None:
        host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.connection.connect()
        self.local_port: int = self.connection.sock.getsockname()[1]
        self.token: str | None = None

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"query": query, "variables": variables or {}})
        self.connection.request("POST", "/graphql/", body=body, headers=headers)
        response = self.connection.getresponse()
        payload = json.loads(response.read())
        assert response.status == 200, (response.status, payload)
        assert response.getheader("Connection", "").lower() != "close"
        return payload

    def ok(self, field: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        result = self.graphql(query, variables)
        assert "errors" not in result, result
        payload = result["data"][field]
        assert payload.get("errors", []) == [], payload
        return payload

    def close(self) -> None:
        self.connection.close()
