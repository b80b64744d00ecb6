"""gunicorn settings: `gunicorn -c config/gunicorn.py config.asgi:application`.

HOST and PORT (default 127.0.0.1:8000) give the address, WEB_CONCURRENCY the number of worker
processes (default 1). Each worker is uvicorn (config.gunicorn_worker) with the server's own
X-Forwarded-* handling off: only the app's settings (TRUSTED_PROXY_HOPS, TRUSTED_PROXY_TLS) decide
which forwarding headers to believe.
"""

import os

_host = os.environ.get("HOST", "127.0.0.1")
_port = os.environ.get("PORT", "8000")
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "config.gunicorn_worker.UvicornWorker"
# Seconds a worker has after SIGTERM to finish its requests before it is killed.
graceful_timeout = 30
# gunicorn's own forwarding-header trust, off as well (it applies to gunicorn's own workers).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# No gunicornc control socket: nothing here uses it, and its default path (one per user, in
# $XDG_RUNTIME_DIR or ~/.gunicorn) would be shared by every gunicorn on the host.
control_socket_disable = True
