"""Request-scoped batch loaders for cross-module references (sync DataLoaders).

HTTP execution is synchronous (the ORM is), and Strawberry's DataLoader needs an event loop. So a
loader here batches differently: a module's face declares a `Loader` for what it offers others
(`user_loader`, `center_loader`), and the faces that reference it mark their querysets with
`with_references`, so that fetched rows announce their keys at once. The first `load` of any key
then fetches every announced key in one call: a nested page of 50 batches x 50 items costs one
lookup, whatever its size. The domain models know none of this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextvars import ContextVar, Token
from typing import Any, Generic, TypeVar

from django.db import models

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(Generic[K, V]):
    """How to fetch one kind of reference, declared once by the module that owns the data.

    `fetch` gets a set of keys and returns what it found, keyed the same way (missing keys are
    absent). Another module's face imports the loader object itself, never a name.
    """

    def __init__(self, name: str, fetch: Callable[[set[K]], Mapping[K, V]]) -> None:
        self.name = name
        self.fetch = fetch

    def __repr__(self) -> str:
        return f"Loader({self.name!r})"

    def load(self, key: K | None) -> V | None:
        # A page of 5,000 rows loads one of a handful of keys per row: a key this request has
        # already fetched is answered here, without the batch's own steps.
        batches = _batches.get()
        batch = batches.get(self) if batches is not None else None
        if batch is not None and key in batch.cache:
            return batch.cache[key]
        return _batch(self).load(key)

    def load_many(self, keys: Iterable[K]) -> list[V | None]:
        return _batch(self).load_many(keys)

    def want(self, keys: Iterable[K | None]) -> None:
        """Announce keys to fetch with the next load (nothing happens outside a request)."""
        batches = _batches.get()
        if batches is not None:
            _batch(self).want(keys)


class _Batch(Generic[K, V]):
    def __init__(self, loader: Loader[K, V]) -> None:
        self.fetch = loader.fetch
        self.cache: dict[K, V | None] = {}
        self.pending: set[K] = set()

    def want(self, keys: Iterable[K | None]) -> None:
        self.pending.update(k for k in keys if k is not None and k not in self.cache)

    def load(self, key: K | None) -> V | None:
        if key is None:
            return None
        if key not in self.cache:
            wanted = self.pending | {key}
            found = self.fetch(wanted)
            for wanted_key in wanted:
                self.cache[wanted_key] = found.get(wanted_key)
            self.pending.clear()
        return self.cache[key]

    def load_many(self, keys: Iterable[K]) -> list[V | None]:
        keys = list(keys)
        self.want(keys)
        return [self.load(k) for k in keys]


# The current request's batches; None outside a GraphQL request (then nothing is batched).
_batches: ContextVar[dict[Loader[Any, Any], _Batch[Any, Any]] | None] = ContextVar(
    "majestic_loaders", default=None
)


def _batch(loader: Loader[K, V]) -> _Batch[K, V]:
    batches = _batches.get()
    if batches is None:
        return _Batch(loader)  # outside requests: a throwaway batch
    if loader not in batches:
        batches[loader] = _Batch(loader)
    return batches[loader]


def start_request() -> Token[dict[Loader[Any, Any], _Batch[Any, Any]] | None]:
    """Give the current request fresh loaders; returns a token for `end_request`."""
    return _batches.set({})


def end_request(token: Token[dict[Loader[Any, Any], _Batch[Any, Any]] | None]) -> None:
    _batches.reset(token)


def with_references(
    queryset: models.QuerySet[Any], references: Mapping[str, Loader[Any, Any]]
) -> models.QuerySet[Any]:
    """`queryset`, whose rows announce their `attribute -> loader` keys as soon as they are fetched.

    Call it in a type's `get_queryset`, the one place every list, nested connection and
    `node(id:)` lookup of that type goes through. The mark is the queryset's class, so it survives
    every filter, slice and prefetch Django clones from it.
    """
    marked = queryset.all()
    marked.__class__ = _referencing_class(type(queryset), tuple(references.items()))
    return marked


@functools.cache
def _referencing_class(
    base: type[models.QuerySet[Any]], references: tuple[tuple[str, Loader[Any, Any]], ...]
) -> type[models.QuerySet[Any]]:
    if issubclass(base, _ReferencingQuerySet):  # marked twice: the later references win
        base = base.__mro__[2]
    return type(
        f"Referencing{base.__name__}", (_ReferencingQuerySet, base), {"references": references}
    )


class _ReferencingQuerySet(models.QuerySet[Any]):
    references: tuple[tuple[str, Loader[Any, Any]], ...] = ()

    # Django's private QuerySet._fetch_all is where every evaluation lands (iteration, len, bool,
    # prefetching); it has kept that role and signature since Django 1.x. See COMPATIBILITY.md.
    def _fetch_all(self) -> None:
        already_fetched = self._result_cache is not None
        super()._fetch_all()
        if already_fetched or _batches.get() is None:
            return
        rows = self._result_cache or []
        for attribute, loader in self.references:
            # Read the loaded value only: getattr on a deferred field would query once per row.
            # A set: thousands of rows name a handful of keys.
            loader.want(
                {row.__dict__.get(attribute) for row in rows if isinstance(row, models.Model)}
            )
