"""Real uvicorn servers for live tests and the benchmark, on a database of their own.

`live_database()` migrates a fresh database once (a SQLite file, or a PostgreSQL database named
after DATABASE_URL's with `_live_<pid>`), and `LiveServer` runs `uvicorn tests.live.app:application`
in a subprocess on it. The listening socket belongs to the test process and is handed to uvicorn
(`--fd`), so a server can be stopped and started again on the same address while clients wait.
uvicorn runs as `make run` starts it, with its own proxy-header handling off. `GunicornServer` runs
the production way instead: gunicorn with config/gunicorn.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parents[2]


def base_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "test",
            "PYTHONUNBUFFERED": "1",
            "AUTH_PRINT_VERIFICATION_CODES": "0",
            "LOG_LEVEL": "WARNING",
            # The scripts as they are in the tree, never a copy an earlier collectstatic left.
            "STATIC_ROOT": str(ROOT / ".no-collected-static"),
            # Every browser test signs in from 127.0.0.1: more than the default 10 a minute when
            # they run close together. The tests of that limit start servers with their own.
            "SIGN_IN_RATE_LIMIT_PER_MINUTE": "1000",
        }
    )
    return env


def _run_manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@contextlib.contextmanager
def live_database(workdir: Path) -> Iterator[str]:
    """A migrated database for servers to share; PostgreSQL when DATABASE_URL names one."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        parsed = urlparse(base)
        # Unique per call: tests/live and tests/e2e each have one in the same test session.
        name = f"{parsed.path.strip('/') or 'majestic'}_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = urlunparse(parsed._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        url = urlunparse(parsed._replace(path=f"/{name}"))
        try:
            _run_manage({**base_environment(), "DATABASE_URL": url}, "migrate", "--noinput")
            yield url
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{workdir / 'live.sqlite3'}"
        _run_manage({**base_environment(), "DATABASE_URL": url}, "migrate", "--noinput")
        yield url


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class LiveServer:
    """One uvicorn process serving the app (plus /test-only/) on a socket this process owns."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        self.env = {**base_environment(), "DATABASE_URL": database_url, **env}
        self.log_path = log_path
        self.sock = listening_socket()
        host, port = self.sock.getsockname()
        self.url = f"http://{host}:{port}"
        self.ws_url = f"ws://{host}:{port}/graphql/"
        self.process: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(base_url=self.url, timeout=30)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.live.app:application",
            "--fd",
            str(self.sock.fileno()),
            "--lifespan",
            "off",
            # As `make run`: the app alone decides which X-Forwarded-* to believe.
            "--no-proxy-headers",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
        ]

    def start(self, timeout: float = 60) -> LiveServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(self.sock.fileno(),),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if self._http.get("/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=timeout)

    def close(self) -> None:
        self.stop()
        self._http.close()
        self.sock.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # --- arrange and inspect -------------------------------------------------------------------

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._http.post(path, json=payload or {})
        response.raise_for_status()
        return response.json()

    def make_user(self, kind: str = "staff", password: str | None = None) -> dict[str, Any]:
        return self.post("/test-only/users", {"kind": kind, "password": password})

    def make_api_key(self, *scopes: str) -> str:
        return self.create_api_key(*scopes)["key"]

    def create_api_key(self, *scopes: str) -> dict[str, Any]:
        """A new API key: {"key", "name"}."""
        return self.post("/test-only/api-keys", {"scopes": list(scopes)})

    def revoke_api_key(self, name: str) -> None:
        self.post("/test-only/api-keys/revoke", {"name": name})

    def set_staff(self, user_uuid: str, is_staff: bool, *, by: str) -> None:
        """Grant or take away staff powers, as superuser `by` (a uuid)."""
        self.post("/test-only/users/staff", {"uuid": user_uuid, "isStaff": is_staff, "by": by})

    def client_from(self, source: str) -> httpx.Client:
        """An HTTP client whose connections come from `source` (on Linux, any 127.x.y.z)."""
        return httpx.Client(
            base_url=self.url, timeout=30, transport=httpx.HTTPTransport(local_address=source)
        )

    def publish(self, **payload: Any) -> None:
        self.post("/test-only/publish", payload)

    def troubled_event(self, state: str = "dead", **fields: Any) -> str:
        """An outbox event that failed to go out ("dead" or "retrying"); its eventId."""
        return str(self.post("/test-only/outbox/troubled", {"state": state, **fields})["eventId"])

    def live(self) -> dict[str, Any]:
        response = self._http.get("/test-only/live")
        response.raise_for_status()
        return response.json()

    def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        authorization: str | None = None,
    ) -> Any:
        """POST a GraphQL request as a user (`token`) or with any Authorization value."""
        authorization = authorization or (f"Bearer {token}" if token else None)
        headers = {"Authorization": authorization} if authorization else {}
        response = self._http.post(
            "/graphql/", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()


class GunicornServer(LiveServer):
    """gunicorn with config/gunicorn.py (its uvicorn workers), as production runs the app.

    The socket is handed over as `fd://` (the command line's bind wins over the config's HOST and
    PORT); everything else comes from the config file. WEB_CONCURRENCY workers (default 1).
    """

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "config" / "gunicorn.py"),
            "--bind",
            f"fd://{self.sock.fileno()}",
            "--log-level",
            "warning",
            "tests.live.app:application",
        ]
