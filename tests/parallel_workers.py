"""Keeps pytest-xdist's workers (`PYTEST_ARGS="-n 2"`, as CI runs) out of each other's way.

pytest-django already gives each worker its own test database (`test_<name>_gw<N>`), and live
servers make their own (`_live_<pid>`). Redis is the one shared thing: worker N uses database
number base + N of REDIS_URL, so one worker's keys, budgets and pub/sub channels never reach
the other. Loaded with `-p` (pyproject.toml) so that it runs before Django reads its settings.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def redis_url_for_worker(url: str, worker: str) -> str:
    """`redis://host:port/3` for worker `gw2` → `redis://host:port/5`."""
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + index}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"], _worker)
