"""Websocket connections and subscriptions open across every gateway process (systemStatus).

The Prometheus gauges (metrics.py) count per process and are summed at scrape time; systemStatus
needs the sum at once, from whichever process answers. Each process counts its own here (the
websocket transport calls `live_counts.change` beside the gauges). With REDIS_URL it shares them
in one Redis hash, one field per process (`host:pid:token` -> "connections subscriptions
expires"), written by a thread of its own right after a change (changes in a burst are written
once) and again every LIVE_COUNTS_REFRESH_SECONDS; a reader adds the other processes' fields that
have not expired (three refreshes: a killed process stops counting within that) to its own
counts, and removes the expired. Without Redis there is one process: its own counts. Expiry
compares the hosts' clocks, which are assumed to agree within a few seconds.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger("majestic.live_counts")

EXPIRY_REFRESHES = 3


@dataclass(frozen=True)
class Totals:
    connections: int
    subscriptions: int


def redis_key() -> str:
    """The hash of this deployment's processes (the channel prefix carries the database number)."""
    return f"{settings.CHANNEL_LAYER_PREFIX}live-counts"


class LiveCounts:
    def __init__(self, *, key: str | None = None) -> None:
        self._key = key  # the Redis hash; None: redis_key()
        self._lock = threading.Lock()
        self._connections = 0
        self._subscriptions = 0
        self._changed = threading.Event()
        self._pid = -1  # a fork (gunicorn's workers) gets a key, a client and a thread of its own
        self._field = ""
        self._client: Any = None
        self._thread: threading.Thread | None = None

    def change(self, *, connections: int = 0, subscriptions: int = 0) -> None:
        """Count connections or subscriptions opened (+1) or closed (-1); never blocks."""
        with self._lock:
            self._connections += connections
            self._subscriptions += subscriptions
        if settings.REDIS_URL:
            self._ensure_sharing()
            self._changed.set()

    def local(self) -> Totals:
        with self._lock:
            return Totals(self._connections, self._subscriptions)

    def totals(self) -> Totals:
        """Every live process's counts (this one's as they are now); this one's alone without
        Redis, or when Redis does not answer (logged)."""
        own = self.local()
        if not settings.REDIS_URL:
            return own
        try:
            fields: dict[bytes, bytes] = self._redis().hgetall(self._hash())
        except Exception:
            logger.warning("Redis did not answer: counting this process's sockets only")
            return own
        connections, subscriptions, expired = own.connections, own.subscriptions, []
        now = time.time()
        for name, value in fields.items():
            if name.decode() == self._field_name():
                continue
            try:
                c, s, expires = value.decode().split()
                if float(expires) < now:
                    expired.append(name)
                    continue
                connections += int(c)
                subscriptions += int(s)
            except ValueError:
                expired.append(name)
        if expired:
            try:
                self._redis().hdel(self._hash(), *expired)
            except Exception:
                logger.warning("Could not remove expired live counts from Redis")
        return Totals(connections, subscriptions)

    # --- sharing --------------------------------------------------------------------------------

    def _hash(self) -> str:
        return self._key or redis_key()

    def _field_name(self) -> str:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._field = f"{socket.gethostname()}:{self._pid}:{uuid.uuid4().hex[:8]}"
            self._client = None
            self._thread = None
        return self._field

    def _redis(self) -> Any:
        self._field_name()
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        return self._client

    def _ensure_sharing(self) -> None:
        self._field_name()
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._share, name="majestic-live-counts", daemon=True
            )
            self._thread.start()
            atexit.register(self._forget)

    def _share(self) -> None:
        refresh = settings.LIVE_COUNTS_REFRESH_SECONDS
        failing = False
        while True:
            self._changed.wait(timeout=refresh)
            self._changed.clear()
            own = self.local()
            expires = time.time() + EXPIRY_REFRESHES * refresh
            try:
                pipeline = self._redis().pipeline()
                pipeline.hset(
                    self._hash(),
                    self._field_name(),
                    f"{own.connections} {own.subscriptions} {expires:.3f}",
                )
                # The hash goes too once no process refreshes it.
                pipeline.expire(self._hash(), int(EXPIRY_REFRESHES * refresh) + 1)
                pipeline.execute()
                failing = False
            except Exception:
                if not failing:  # once per outage
                    logger.warning("Could not share this process's live counts in Redis")
                failing = True

    def _forget(self) -> None:
        try:
            self._redis().hdel(self._hash(), self._field_name())
        except Exception:
            logger.debug("Could not remove this process's live counts from Redis")


live_counts = LiveCounts()
