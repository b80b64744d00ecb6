"""gunicorn settings: `gunicorn -c config/gunicorn.py config.asgi:application`.

The production web process (Procfile's `web`, compose.yaml's `gateway`). HOST and PORT (default
127.0.0.1:8000) give the address, WEB_CONCURRENCY the number of worker processes (default 1; about
one per core). Each worker is uvicorn (config.gunicorn_worker) with the server's own X-Forwarded-*
handling off: only the app's settings (TRUSTED_PROXY_HOPS, TRUSTED_PROXY_TLS) decide which
forwarding headers to believe. Any setting here can be overridden without editing this file with
gunicorn's own GUNICORN_CMD_ARGS (e.g. "--timeout 60"), which wins over this file.

- The app is preloaded: the master imports config.asgi (Django set up, the schema built, every
  startup object frozen out of the garbage collector's sight) and forks the workers from it, so
  they share those pages copy-on-write and start at once. Nothing at import opens a database or
  Redis connection: each worker opens its own on first use.
- Outbox events are relayed by `manage.py relay_events` workers (Procfile's `relay`) and bulk jobs
  worked by `manage.py work_jobs` (Procfile's `jobs`), never by the web processes:
  EVENTS_RELAY_IN_PROCESS and JOBS_WORKER_IN_PROCESS default to off here. Set on explicitly, each
  worker would run a thread of its own, so the app is then not preloaded (a thread started in the
  master does not survive the fork).
- Prometheus metrics: prometheus-client's multiprocess mode, every worker writing its samples to
  PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder when unset) and a dead worker's gauges
  dropped when it exits.
"""

from __future__ import annotations

import gc
import os
import tempfile
from typing import Any

# Before the app is imported: the settings and prometheus_client read these.
# Set but empty counts as unset, as config/settings.py's env_bool reads it (compose's `${X:-}`).
for _switch in ("EVENTS_RELAY_IN_PROCESS", "JOBS_WORKER_IN_PROCESS"):
    if not os.environ.get(_switch, "").strip():
        os.environ[_switch] = "0"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Fresh for every start: samples a previous master's workers left must not be added to ours.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="majestic-prometheus-")

_host = os.environ.get("HOST", "127.0.0.1")
_port = os.environ.get("PORT", "8000")
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "config.gunicorn_worker.UvicornWorker"


def _on(name: str) -> bool:
    """As config/settings.py's env_bool reads it."""
    return os.environ[name].strip().lower() in {"1", "true", "yes", "on"}


preload_app = not (_on("EVENTS_RELAY_IN_PROCESS") or _on("JOBS_WORKER_IN_PROCESS"))

# A worker whose event loop has not checked in for this long is killed and replaced (a request
# blocking the loop, not a slow request: those run in threads; websockets stay open for hours).
timeout = 30
# Seconds a worker has after SIGTERM to finish its requests before it is killed: websockets are
# closed at once (1012, "service restart": clients reconnect to another worker), HTTP requests in
# flight finish. Below ECS's default stopTimeout (30 s) minus the load balancer's deregistration.
graceful_timeout = 25
# Idle keep-alive connections stay open longer than a load balancer's idle timeout (ALB: 60 s), so
# the balancer, not the app, closes them: no request lost on a connection closed under it.
keepalive = 75
# The workers' heartbeat files in memory, not on a container's overlay disk (which can stall).
# gunicorn makes them with tempfile.mkstemp (private, unpredictable names): S108 does not apply.
_shm = "/dev/shm"  # noqa: S108
worker_tmp_dir = _shm if os.path.isdir(_shm) else None
# gunicorn's own forwarding-header trust, off as well (it applies to gunicorn's own workers).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# No gunicornc control socket: nothing here uses it, and its default path (one per user, in
# $XDG_RUNTIME_DIR or ~/.gunicorn) would be shared by every gunicorn on the host.
control_socket_disable = True
# The access log would hold every URL, and a GET request's variables with it (as `make run`).
accesslog = None


def when_ready(server: Any) -> None:
    """In the master, once the app is loaded and before the first fork: no connection may be
    open (a socket shared by forked workers mixes their conversations)."""
    if preload_app:
        from django.db import connections

        connections.close_all()


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze what the master holds (the preloaded app) out of the collector's sight, so a
    worker's collections never touch those pages and copy-on-write keeps them shared."""
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """In the master, when a worker exits: its live gauges go (counters stay summed)."""
    from prometheus_client import multiprocess

    # prometheus-client leaves this one function unannotated.
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
