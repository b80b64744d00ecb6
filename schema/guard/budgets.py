"""A leaky bucket of cost points per client, as Shopify's calculated query cost keeps it.

Each client has a bucket of `size` points that refills at `rate` points per second. An
operation takes its requested cost on entry (refused, with the seconds until it would fit, when
the bucket holds less) and gets the difference to its actual cost back after. In Redis when
REDIS_URL is set, one Lua script per step, so that every gateway process sees one bucket and
concurrent takes are exact; in process memory otherwise.

Buckets are named by an HMAC of the client's identity under SECRET_KEY: they hold no user's
uuid, key's name or address in the clear. The tally of refused operations, which the ops view
shows staff, names the clients (for an hour).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings


@dataclass(frozen=True)
class Bucket:
    size: int
    rate: float  # points restored per second


@dataclass(frozen=True)
class Taken:
    allowed: bool
    available: float  # after the take (when allowed), else as it stands
    retry_after: float  # seconds until the cost would fit (0 when allowed)


class BudgetStore(Protocol):
    def take(self, client: str, cost: int, bucket: Bucket) -> Taken: ...
    def give_back(self, client: str, points: int, bucket: Bucket) -> float: ...
    def available(self, client: str, bucket: Bucket) -> float: ...
    def count_refusal(self, label: str) -> None: ...
    def most_refused(self, limit: int) -> list[tuple[str, int]]: ...


# How often the memory store forgets the buckets that are full again.
SWEEP_SECONDS = 60.0

# Refusals are tallied per client for the ops view over this window (then start again).
REFUSAL_WINDOW_SECONDS = 3600


def client_key(identity: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), identity.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _retry_after(cost: int, available: float, bucket: Bucket) -> float:
    if cost > bucket.size:
        return math.inf
    return (cost - available) / bucket.rate if bucket.rate > 0 else math.inf


class MemoryBudgets:
    """Buckets of this process (the embedded default: one server process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float, Bucket]] = {}  # client -> (points, when, of)
        self._next_sweep = clock() + SWEEP_SECONDS
        self._refusals: dict[str, int] = {}
        self._refusals_since = clock()

    def _level(self, client: str, bucket: Bucket, now: float) -> float:
        points, when, _ = self._levels.get(client, (float(bucket.size), now, bucket))
        return min(float(bucket.size), points + (now - when) * bucket.rate)

    def take(self, client: str, cost: int, bucket: Bucket) -> Taken:
        with self._lock:
            now = self._clock()
            level = self._level(client, bucket, now)
            if cost > level:
                self._levels[client] = (level, now, bucket)
                return Taken(False, level, _retry_after(cost, level, bucket))
            self._levels[client] = (level - cost, now, bucket)
            self._forget_full(now)
            return Taken(True, level - cost, 0.0)

    def give_back(self, client: str, points: int, bucket: Bucket) -> float:
        with self._lock:
            now = self._clock()
            level = min(float(bucket.size), self._level(client, bucket, now) + points)
            self._levels[client] = (level, now, bucket)
            return level

    def available(self, client: str, bucket: Bucket) -> float:
        with self._lock:
            return self._level(client, bucket, self._clock())

    def count_refusal(self, label: str) -> None:
        with self._lock:
            if self._clock() - self._refusals_since > REFUSAL_WINDOW_SECONDS:
                self._refusals, self._refusals_since = {}, self._clock()
            self._refusals[label] = self._refusals.get(label, 0) + 1

    def most_refused(self, limit: int) -> list[tuple[str, int]]:
        with self._lock:
            ranked = sorted(self._refusals.items(), key=lambda item: (-item[1], item[0]))
            return ranked[:limit]

    def _forget_full(self, now: float) -> None:
        """Now and then, drop the buckets that have filled up again (each by its own size and
        rate: they read as full when absent): memory stays bounded by the recent clients."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        full = [c for c, (_, _, of) in self._levels.items() if self._level(c, of, now) >= of.size]
        for client in full:
            del self._levels[client]


# KEYS[1]: the bucket; ARGV: size, rate (points/s), cost (negative: points given back).
# Returns {allowed (1/0), points available in thousandths}. The time is Redis's own, so every
# process agrees on it; the key expires once the bucket would be full again.
_STEP = """
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'points', 'when')
local points = tonumber(state[1]) or size
local when = tonumber(state[2]) or now
points = math.min(size, points + math.max(0, now - when) * rate)
local allowed = 1
if cost > 0 and cost > points then
  allowed = 0
else
  points = math.min(size, points - cost)
end
redis.call('HSET', KEYS[1], 'points', tostring(points), 'when', tostring(now))
local ttl = 1
if rate > 0 then ttl = math.ceil((size - points) / rate) + 1 end
redis.call('EXPIRE', KEYS[1], ttl)
return {allowed, math.floor(points * 1000)}
"""


class RedisBudgets:
    """Buckets shared by every process on one Redis (REDIS_URL)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=settings.GRAPHQL_COST_REDIS_TIMEOUT_SECONDS
        )
        self._step = self._redis.register_script(_STEP)
        self._prefix = prefix

    def _run(self, client: str, bucket: Bucket, cost: int) -> tuple[bool, float]:
        allowed, thousandths = self._step(
            keys=[f"{self._prefix}{client}"], args=[bucket.size, bucket.rate, cost]
        )
        return bool(allowed), int(thousandths) / 1000

    def take(self, client: str, cost: int, bucket: Bucket) -> Taken:
        allowed, available = self._run(client, bucket, cost)
        if allowed:
            return Taken(True, available, 0.0)
        return Taken(False, available, _retry_after(cost, available, bucket))

    def give_back(self, client: str, points: int, bucket: Bucket) -> float:
        return self._run(client, bucket, -points)[1]

    def available(self, client: str, bucket: Bucket) -> float:
        return self._run(client, bucket, 0)[1]

    def count_refusal(self, label: str) -> None:
        key = f"{self._prefix}refusals"
        self._redis.zincrby(key, 1, label)
        # The window starts with its first refusal (EXPIRE NX would need Redis 7).
        if self._redis.ttl(key) < 0:
            self._redis.expire(key, REFUSAL_WINDOW_SECONDS)

    def most_refused(self, limit: int) -> list[tuple[str, int]]:
        ranked: list[tuple[bytes, float]] = self._redis.zrevrange(  # type: ignore[assignment]  # redis-py's return type is a union of every reply shape
            f"{self._prefix}refusals", 0, limit - 1, withscores=True
        )
        return [(label.decode(), int(score)) for label, score in ranked]


def redis_prefix() -> str:
    """Where the buckets live in Redis (the channel prefix carries the database number)."""
    return f"{settings.CHANNEL_LAYER_PREFIX}cost:"


@cache
def budget_store() -> BudgetStore:
    """The process's store: Redis when REDIS_URL is set, else memory (made once)."""
    if settings.REDIS_URL:
        return RedisBudgets(settings.REDIS_URL, redis_prefix())
    return MemoryBudgets()
