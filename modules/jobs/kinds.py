"""The registry of job kinds: what a module registers (through api.py) and workers look up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowResult:
    """What a row created, as a Relay node: its GraphQL type name and its key (the `id` attr)."""

    type_name: str
    key: str


RowHandler = Callable[[dict[str, Any], dict[str, Any]], RowResult | None]


@dataclass(frozen=True)
class JobKind:
    """A kind of bulk work: `apply_row(row, options)` applies one row (or raises for a bad one)."""

    name: str
    apply_row: RowHandler


_kinds: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> None:
    """Make `kind` runnable; registering the same name again replaces it (tests, reloads)."""
    _kinds[kind.name] = kind


def unregister_kind(name: str) -> None:
    _kinds.pop(name, None)


def kind_named(name: str) -> JobKind | None:
    return _kinds.get(name)
