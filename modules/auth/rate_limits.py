"""Request limits kept in the database, so they hold with one process or many and without Redis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from modules.auth.errors import AuthErrorCode
from modules.auth.models import RateLimitWindow


def hit(key: str, *, limit: int, window: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """Count one request against `key`; False when the window already holds `limit` requests.

    Fixed windows: simple, one row per key, and at worst 2x the limit across a window boundary.
    The row is locked while counted so concurrent requests cannot both take the last slot.
    """
    now = now or timezone.now()
    with transaction.atomic():
        bucket = None
        while bucket is None:  # the housekeeping purge may delete a stale row between the two steps
            RateLimitWindow.objects.bulk_create(
                [RateLimitWindow(key=key, window_start=now, expires_at=now + window, count=0)],
                ignore_conflicts=True,
            )
            bucket = RateLimitWindow.objects.select_for_update().filter(key=key).first()
        if bucket.expires_at <= now:
            bucket.window_start, bucket.expires_at, bucket.count = now, now + window, 0
        if bucket.count >= limit:
            return False
        bucket.count += 1
        bucket.save(update_fields=["window_start", "expires_at", "count"])
    return True


def _rate_limited() -> ValidationError:
    return ValidationError("Too many requests; try again later.", code=AuthErrorCode.RATE_LIMITED)


def ensure_within(
    key: str, *, limit: int, window: dt.timedelta, now: dt.datetime | None = None
) -> None:
    """`hit`, raising RATE_LIMITED when over the limit."""
    if not hit(key, limit=limit, window=window, now=now):
        raise _rate_limited()


def take_all(limits: Sequence[tuple[str, int]], *, window: dt.timedelta, now: dt.datetime) -> None:
    """`ensure_within` for each (key, limit), all or none: when one is full, those already counted
    are given back before RATE_LIMITED is raised. Pair with `give_back` for requests that turn out
    not to count (counting first, rather than after, keeps concurrent requests within the limit)."""
    taken: list[str] = []
    for key, limit in limits:
        if not hit(key, limit=limit, window=window, now=now):
            give_back(taken, now=now)
            raise _rate_limited()
        taken.append(key)


def give_back(keys: Sequence[str], *, now: dt.datetime) -> None:
    """Uncount one request that `hit` counted at `now` against each key. Nothing is given back once
    that window has ended: the request was never counted in the next one."""
    if keys:
        RateLimitWindow.objects.filter(
            key__in=keys, window_start__lte=now, expires_at__gt=now, count__gt=0
        ).update(count=F("count") - 1)
