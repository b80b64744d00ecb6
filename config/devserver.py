"""`make run`'s server: `check` fails fast when the port is taken (before migrate and seed), and
`serve` runs uvicorn, then prints where everything is and how to sign in, as the last thing on
screen once the server listens.

Development only: production runs gunicorn (config/gunicorn.py).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import socket
import sys
import time
from typing import Any

# The demo accounts are read from the module of the `seed_demo` command, so that the banner
# cannot drift from what the seed writes: the sample's (modules/shipping), or the accounts-only
# one a project made without the sample has (modules/user, from tools/new_project_seed.py).
SEED_COMMAND = "seed_demo"


def port_taken(host: str, port: int) -> bool:
    """True when something already listens on host:port (or the address cannot be bound)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port only in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def check(host: str, port: int) -> int:
    if port_taken(host, port):
        print(
            f"Port {port} on {host} is taken (another `make run`, or another server).\n"
            f"Stop it, or use another port: make run PORT={port + 1}",
            file=sys.stderr,
        )
        return 1
    return 0


def demo_seed() -> Any:
    """The module of the `seed_demo` command (imported here: it needs Django set up, and `check`
    must answer before anything else runs)."""
    import importlib

    from django.core.management import get_commands

    return importlib.import_module(f"{get_commands()[SEED_COMMAND]}.management.commands.seed_demo")


def banner(host: str, port: int) -> str:
    import django

    django.setup()
    seed = demo_seed()
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    drivers = "\n".join(
        f"    driver  {name}: phone {phone}, code {code} (signInWithCode)"
        for phone, name, code in seed.DEMO_DRIVERS
    )
    return (
        "\n"
        "Majestic is running (Ctrl-C stops it).\n"
        f"  GraphiQL  {base}/graphql/   (sign in with the person icon on the left)\n"
        f"  Ops       {base}/ops/\n"
        f"  Admin     {base}/admin/\n"
        f"  Health    {base}/healthz\n"
        "  Demo accounts (development only):\n"
        f"    staff   username {seed.DEMO_STAFF_USERNAME}, password {seed.DEMO_STAFF_PASSWORD}"
        " (GraphiQL, /ops/, /admin/)\n"
        f"{drivers}\n"
    )


def uvicorn_config(host: str, port: int) -> Any:
    """The development server's uvicorn.Config (Any: imported here, after `check`)."""
    import uvicorn

    return uvicorn.Config(
        "config.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        # The app alone believes X-Forwarded-* (TRUSTED_PROXY_HOPS, TRUSTED_PROXY_TLS): uvicorn's
        # own handling would let any local client forge its address and scheme.
        proxy_headers=False,
        # An access log line holds the whole URL, and a GET request's variables with it.
        access_log=False,
    )


async def _serve(host: str, port: int) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn_config(host, port))
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        await _logs_quiet()
        print(banner(host, port), flush=True)
    await serving


class _LastRecord(logging.Handler):
    """Notes when the last log record went out."""

    def __init__(self) -> None:
        super().__init__()
        self.at = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        self.at = time.monotonic()


async def _logs_quiet(quiet: float = 1.0, at_most: float = 10.0) -> None:
    """Wait until nothing was logged for `quiet` seconds (at most `at_most`): on a first run the
    in-process relay delivers the seed's events right after start-up, and their log lines would
    bury the banner."""
    watcher = _LastRecord()
    root = logging.getLogger()
    root.addHandler(watcher)
    started = time.monotonic()
    try:
        while time.monotonic() - watcher.at < quiet and time.monotonic() - started < at_most:
            await asyncio.sleep(0.1)
    finally:
        root.removeHandler(watcher)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.devserver")
    parser.add_argument("action", choices=["check", "serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.action == "check":
        return check(args.host, args.port)
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    asyncio.run(_serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
