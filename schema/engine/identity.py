"""A map keyed by the identity of objects it does not keep alive.

The plans and the hint cache keep what they learn per parsed operation. A WeakKeyDictionary keyed
by the operation's AST node hashes it, and graphql-core 3.3's AST nodes hash their whole subtree:
about 755,000 hash calls per 20 requests of a read that completes many objects one by one. Here a
lookup is one `id()` and one dict access.
"""

from __future__ import annotations

import weakref
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class IdentityMap(Generic[V]):
    """`get(key)` / `map[key] = value` by identity; an entry goes when its key is collected."""

    __slots__ = ("__weakref__", "_entries")

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], V]] = {}

    def get(self, key: object, default: V | None = None) -> V | None:
        entry = self._entries.get(id(key))
        # The id of a collected key may be reused: the weak reference tells which object it was.
        return entry[1] if entry is not None and entry[0]() is key else default

    def __setitem__(self, key: object, value: V) -> None:
        ident = id(key)
        entries = self._entries

        def forget(_: weakref.ref[Any]) -> None:
            entry = entries.get(ident)
            if entry is not None and entry[0]() is None:
                del entries[ident]

        self._entries[ident] = (weakref.ref(key, forget), value)

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[V]:
        return [value for ref, value in list(self._entries.values()) if ref() is not None]

    def clear(self) -> None:
        self._entries.clear()
