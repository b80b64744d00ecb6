"""The uvicorn worker that config/gunicorn.py runs: uvicorn-worker's, with the server's own
proxy-header handling off.

uvicorn believes X-Forwarded-For and X-Forwarded-Proto from FORWARDED_ALLOW_IPS (loopback by
default) and rewrites the client address and scheme before the app sees them: behind nothing, any
client on the host could forge them, and with a proxy on the host every client could. The app
alone decides which of those headers to believe (TRUSTED_PROXY_HOPS, TRUSTED_PROXY_TLS), so the
server must hand it the socket's own peer and scheme.

uvicorn-worker leaves uvicorn's graceful shutdown unbounded: requests still running when
gunicorn's graceful_timeout is up would die with the worker (SIGKILL), mid-response. Bounded a
second sooner, uvicorn cancels them itself and the worker exits cleanly.
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker as BaseUvicornWorker


class UvicornWorker(BaseUvicornWorker):  # type: ignore[misc]  # uvicorn-worker ships no types
    CONFIG_KWARGS: dict[str, Any] = {
        **BaseUvicornWorker.CONFIG_KWARGS,
        "proxy_headers": False,
        # Django has no lifespan protocol (as `make run`: --lifespan off).
        "lifespan": "off",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = max(self.cfg.graceful_timeout - 1, 1)
