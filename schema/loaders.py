"""Request-scoped batch loaders for cross-module references (sync DataLoaders).

HTTP execution is synchronous (the ORM is), and Strawberry's DataLoader needs an event loop. So a
loader here batches differently: querysets that carry cross-module keys announce them as soon as
their rows are fetched (`announce`, called from `ReferencingQuerySet`), and the first `load` of any
key fetches every announced key in one call to the owning module's `api.py`. A nested page of
50 batches x 50 items therefore costs one lookup, whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from typing import Any

from django.db import models

Fetch = Callable[[set[Any]], dict[Any, Any]]

# The current request's loaders; None outside a GraphQL request (then nothing is batched).
_loaders: ContextVar[dict[str, BatchLoader] | None] = ContextVar("majestic_loaders", default=None)
_fetchers: dict[str, Fetch] = {}


def register(name: str, fetch: Fetch) -> None:
    """Declare how to fetch the references called `name` (e.g. "distribution.center")."""
    _fetchers[name] = fetch


class BatchLoader:
    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch
        self.cache: dict[Any, Any] = {}
        self.pending: set[Any] = set()

    def want(self, keys: Iterable[Hashable]) -> None:
        self.pending.update(k for k in keys if k is not None and k not in self.cache)

    def load(self, key: Hashable | None) -> Any:
        if key is None:
            return None
        if key not in self.cache:
            wanted = self.pending | {key}
            found = self.fetch(wanted)
            for wanted_key in wanted:
                self.cache[wanted_key] = found.get(wanted_key)
            self.pending.clear()
        return self.cache[key]

    def load_many(self, keys: Iterable[Hashable]) -> list[Any]:
        keys = list(keys)
        self.want(keys)
        return [self.load(k) for k in keys]


def start_request() -> object:
    """Give the current request fresh loaders; returns a token for `end_request`."""
    return _loaders.set({})


def end_request(token: Any) -> None:
    _loaders.reset(token)


def loader(name: str) -> BatchLoader:
    """The current request's loader for `name` (a throwaway one outside requests)."""
    loaders = _loaders.get()
    if loaders is None:
        return BatchLoader(_fetchers[name])
    if name not in loaders:
        loaders[name] = BatchLoader(_fetchers[name])
    return loaders[name]


def announce(name: str, keys: Iterable[Hashable]) -> None:
    loaders = _loaders.get()
    if loaders is not None and name in _fetchers:
        loader(name).want(keys)


class ReferencingQuerySet(models.QuerySet):
    """A QuerySet whose rows announce their cross-module keys to the request's loaders.

    Subclass it and set `references = {"current_center_code": "distribution.center"}`.
    """

    references: dict[str, str] = {}

    def _fetch_all(self) -> None:
        already_fetched = self._result_cache is not None
        super()._fetch_all()
        if already_fetched or not self.references or _loaders.get() is None:
            return
        rows = self._result_cache or []
        for attribute, name in self.references.items():
            # Read the loaded value only: getattr on a deferred field would query once per row.
            # A set: thousands of rows name a handful of keys.
            loaded = {row.__dict__.get(attribute) for row in rows if isinstance(row, models.Model)}
            announce(name, loaded)
