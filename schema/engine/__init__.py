"""The read engine: faster completion of reads, installed on a built Strawberry schema.

An internal library with one door: `install(schema)` once the schema is built, and
`ordinary_execution()`, the kill switch under which every field resolves the ordinary way (tests
compare both; the bench measures both). The root installs it unless the GRAPHQL_ENGINE setting
is off. It imports nothing of the project; the private APIs of
graphql-core, Strawberry, strawberry-django and Django it depends on are listed, with the versions
checked, in COMPATIBILITY.md beside it.

- execution.py: column fields read straight from rows, direct resolvers, prefetched connections;
- plans.py: objects completed by a plan compiled once per selection;
- nested_pages.py: nested connections fetched as windowed pages in one query per level;
- hint_cache.py: strawberry-django's optimizer walk kept per selection;
- rows.py: rows of plain models made without Model.__init__'s general work;
- identity.py: what is learnt per parsed operation, kept by the operation's identity (also what
  the guard's actual cost keeps per document).
"""

from __future__ import annotations

import strawberry
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema.engine import hint_cache
from schema.engine.execution import (
    ColumnExecution,
    NestedPageOptimizer,
    apply_shortcuts,
    ordinary_execution,
    page_info_without_cursors,
    shortcuts_on,
)
from schema.engine.identity import IdentityMap
from schema.engine.nested_pages import page_rows
from schema.engine.plans import PlannedExecution

__all__ = [
    "IdentityMap",
    "install",
    "ordinary_execution",
    "page_info_without_cursors",
    "page_rows",
    "shortcuts_on",
]


def install(schema: strawberry.Schema) -> None:
    """Put the engine on a built schema: its execution mixins, its optimizer, its field shortcuts.

    The schema's own execution context class stays underneath; strawberry-django's optimizer
    extension is replaced by the engine's subclass when present, else added.
    """
    base = schema.execution_context_class
    schema.execution_context_class = type(
        f"Engine{base.__name__}", (PlannedExecution, ColumnExecution, base), {}
    )
    extensions = [NestedPageOptimizer if _is_stock_optimizer(e) else e for e in schema.extensions]
    if NestedPageOptimizer not in extensions:
        extensions.append(NestedPageOptimizer)
    schema.extensions = tuple(extensions)
    # Strawberry's private `_schema` is the graphql-core schema it built (COMPATIBILITY.md).
    apply_shortcuts(schema._schema, schema.config.info_class)
    hint_cache.note_relations_while_walking()


def _is_stock_optimizer(extension: object) -> bool:
    """strawberry-django's optimizer, given as its class or as an instance."""
    return extension is DjangoOptimizerExtension or type(extension) is DjangoOptimizerExtension
