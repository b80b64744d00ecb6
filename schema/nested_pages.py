"""Nested pages fetched for a whole list at once, kept on each parent row as plain lists.

For `shippingItems(first: 100) { edges { node { batches { ... } } } }` the optimizer prefetches
every item's page of batches in one query, and Django's prefetch then stores them item by item: for
each of the 100 items it builds a related manager and clones and filters a queryset to hold rows
it already has. That bookkeeping cost more than the whole hand-written view's prefetch.

Here the optimizer's nested-page lookups (`Prefetch` with a cursor-paged queryset) become
`PagePrefetch` lookups, and the rows' iterable (`RowsWithPages`) fetches them itself right after
the parent rows: the same one query per relation and level, grouped by parent in Python, each
parent given a `NestedPage` (its rows, and the queryset they came from). schema/execution.py's
`PrefetchedConnection` reads it. A Django queryset is built for a parent only when the ordinary
path asks for one (`NestedPage.as_queryset`).

strawberry-django caps each parent's rows with a window function (ROW_NUMBER() OVER (PARTITION
BY parent) <= limit), which costs more to build and run than ordinary pages need. Many-to-many
pages are first read without it, at most `limit` x parents + 1 rows: when they all fit, each page
is cut here (`_whole_pages`); when not, some parent has a long list and the window runs after all
(one query more; the relation then goes straight to the window for a minute).

Only relations that nothing but a plain nested connection field reads get this (`page_relations`):
any other field or optimizer hint over the same relation would look for Django's own cache. Inside
`ordinary_execution()` nothing is rewritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related_descriptors import ManyToManyDescriptor
from django.db.models.lookups import LessThanOrEqual
from django.db.models.query import ModelIterable
from django.db.models.sql.where import AND
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.pagination import remove_window_pagination
from strawberry_django.queryset import get_queryset_config

# The annotations of strawberry-django's nested-page window (see `without_window`).
ROW_NUMBER = "_strawberry_row_number"
TOTAL_COUNT = "_strawberry_total_count"

# GraphQLSchema.extensions key: the (model, relation) pairs whose pages are fetched here.
PAGE_RELATIONS = "majestic.page_relations"


def page_attribute(relation: str) -> str:
    """Where a parent row keeps its NestedPage of `relation` (a name no model field has)."""
    return f"_majestic_page_{relation}"


class NestedPage:
    """One parent's rows of a nested page, and the queryset they were fetched with."""

    __slots__ = ("for_parent", "rows", "source")

    def __init__(self, rows: list[Any], source: QuerySet, *, for_parent: bool = False) -> None:
        self.rows = rows
        self.source = source
        # False: `source` is shared by every parent of the list (fetch_pages); True: it is
        # Django's prefetched queryset of this parent.
        self.for_parent = for_parent

    @property
    def ordering(self) -> Any:
        """The ordering descriptors the rows' cursors are made of."""
        return get_queryset_config(self.source).ordering_descriptors

    def as_queryset(self, parent: Model, relation: str) -> QuerySet:
        """The rows as the queryset Django's prefetch keeps for `parent` (filtered to it,
        evaluated), for code that wants a queryset (the ordinary path, totalCount)."""
        if self.for_parent:
            return self.source
        manager = getattr(parent, relation)
        queryset = manager._apply_rel_filters(self.source)  # as Django's prefetch_one_level does
        queryset._result_cache = self.rows
        queryset._prefetch_done = True
        return queryset


class PagePrefetch(Prefetch):
    """A nested page lookup, fetched by RowsWithPages. Its `to_attr` is the NestedPage's
    attribute, so Django's own prefetch, which runs after, finds it done and skips it."""


class RowsWithPages(ModelIterable):
    """Model rows; once all are read, their nested pages (PagePrefetch lookups) are fetched, then
    the other lookups by Django's prefetch."""

    def __iter__(self) -> Iterator[Any]:
        rows = list(super().__iter__())
        queryset = self.queryset
        prefetch_all(rows, queryset._prefetch_related_lookups)
        # Done: Django's own pass would skip the pages, but only after walking every row's
        # related manager once more.
        queryset._prefetch_done = True
        return iter(rows)


def prefetch_all(rows: list[Model], lookups: Iterable[Any]) -> None:
    """The nested pages of `rows`, then their other prefetch lookups (Django's)."""
    if not rows:
        return
    others = []
    for lookup in lookups:
        if isinstance(lookup, PagePrefetch):
            fetch_pages(rows, lookup)
        else:
            others.append(lookup)
    if others:
        prefetch_related_objects(rows, *others)


# Lists found too long to fetch whole (see `_whole_pages`) are paged by the window for a while,
# by (parent model, relation): until then. Approximate and per process, which is enough.
LONG_LIST_MEMORY_SECONDS = 60.0
_long_lists: dict[tuple[type, str], float] = {}


def fetch_pages(parents: list[Model], lookup: PagePrefetch) -> None:
    """One query for the nested pages of all `parents`; each parent gets its NestedPage."""
    parent_model, relation = type(parents[0]), lookup.prefetch_through
    # The related manager of one parent builds the query for all (as Django's prefetch does).
    manager = getattr(parents[0], relation)
    rows_by_parent = None
    # Django's reverse foreign-key prefetcher reads the queryset it is given right away, whole:
    # only many-to-many pages are fetched without their window.
    many_to_many = isinstance(getattr(parent_model, relation), ManyToManyDescriptor)
    window = without_window(lookup.queryset) if many_to_many else None
    if window is not None and _long_lists.get((parent_model, relation), 0.0) < time.monotonic():
        unwindowed, limit = window
        related, row_key, parent_key, _, _, _ = manager.get_prefetch_querysets(
            parents, [unwindowed]
        )
        rows_by_parent = _whole_pages(related, row_key, limit, len(parents))
        if rows_by_parent is None:
            _long_lists[parent_model, relation] = time.monotonic() + LONG_LIST_MEMORY_SECONDS
    if rows_by_parent is None:
        related, row_key, parent_key, _, _, _ = manager.get_prefetch_querysets(
            parents, [lookup.queryset]
        )
        rows_by_parent = _by_parent(related, row_key)  # the rows' own nested pages come too
    for parent in parents:
        page = NestedPage(rows_by_parent.get(parent_key(parent), []), lookup.queryset)
        parent.__dict__[lookup.to_attr] = page


def _by_parent(rows: Iterable[Any], row_key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row_key(row), []).append(row)
    return grouped


def _whole_pages(
    related: QuerySet, row_key: Callable[[Any], Any], limit: int, parent_count: int
) -> dict[Any, list[Any]] | None:
    """Every parent's page, cut to `limit` rows here rather than by a window function in SQL,
    which costs more to build and run than the rows it spares on ordinary pages.

    Reads at most as many rows as the window could return, without their own nested pages; when
    there are more (some parent has a long list), None: the window decides. The rows kept then
    get their nested pages.
    """
    most = limit * parent_count
    rows = list(related.prefetch_related(None)[: most + 1])
    if len(rows) > most:
        return None
    grouped = _by_parent(rows, row_key)
    for page in grouped.values():
        total = len(page)
        del page[limit:]
        for number, row in enumerate(page, 1):  # what the window's annotations would say
            row.__dict__[ROW_NUMBER] = number
            row.__dict__[TOTAL_COUNT] = total
    prefetch_all(
        [row for page in grouped.values() for row in page], related._prefetch_related_lookups
    )
    return grouped


def without_window(queryset: QuerySet) -> tuple[QuerySet, int] | None:
    """`queryset` without strawberry-django's per-parent window, and the window's row limit.

    strawberry_django.pagination.apply_window_pagination pages a nested list with two window
    annotations and one filter, `ROW_NUMBER() OVER (PARTITION BY parent ...) <= limit`; the
    library's remove_window_pagination takes them off. None when the query is anything else (a
    page from both ends, an offset, DISTINCT, a slice ...): removing would change its rows.
    """
    query = queryset.query
    windows = {name for name, value in query.annotations.items() if value.contains_over_clause}
    if windows != {ROW_NUMBER, TOTAL_COUNT} or query.distinct or query.is_sliced:
        return None
    where = query.where
    filters = [child for child in where.children if child.contains_over_clause]
    if where.connector != AND or where.negated or len(filters) != 1:
        return None
    (limit_filter,) = filters
    if (
        not isinstance(limit_filter, LessThanOrEqual)
        or limit_filter.lhs != query.annotations[ROW_NUMBER]
        or type(limit_filter.rhs) is not int
    ):
        return None
    return remove_window_pagination(queryset), limit_filter.rhs


def with_nested_pages(queryset: QuerySet, page_relations: frozenset[tuple[type, str]]) -> QuerySet:
    """`queryset` with its nested-page lookups (at any depth) fetched by RowsWithPages."""
    lookups = queryset._prefetch_related_lookups
    if not lookups or queryset._iterable_class not in (ModelIterable, RowsWithPages):
        return queryset
    rewritten = tuple(_rewritten(queryset.model, lookup, page_relations) for lookup in lookups)
    if all(new is old for new, old in zip(rewritten, lookups, strict=True)):
        return queryset
    queryset = queryset.prefetch_related(None).prefetch_related(*rewritten)
    if any(isinstance(lookup, PagePrefetch) for lookup in rewritten):
        queryset._iterable_class = RowsWithPages
    return queryset


def _rewritten(model: type, lookup: Any, page_relations: frozenset[tuple[type, str]]) -> Any:
    """A page's lookup as a PagePrefetch (with its own pages rewritten inside); any other lookup
    as it was, since Django's prefetch runs it and the lookups inside it: none may be a page."""
    if not isinstance(lookup, Prefetch) or lookup.queryset is None:
        return lookup
    relation = lookup.prefetch_through
    config = get_queryset_config(lookup.queryset)
    if (
        type(lookup) is not Prefetch
        or lookup.to_attr is not None
        or LOOKUP_SEP in relation
        or (model, relation) not in page_relations
        or not config.optimized_by_prefetching
        or config.ordering_descriptors is None
    ):
        return lookup
    inner = with_nested_pages(lookup.queryset, page_relations)
    return PagePrefetch(relation, queryset=inner, to_attr=page_attribute(relation))


def page_relations(fields: list[tuple[type, Any, bool]]) -> frozenset[tuple[type, str]]:
    """The (model, relation) pairs read only by plain nested connection fields.

    `fields`: (model, Strawberry field, whether it is a plain nested connection) for every field
    of every Django type. A relation another field reads, or an optimizer hint names, stays with
    Django's prefetch, where that field looks for it; a hint computed at run time (a callable)
    could name any relation of its model.
    """
    pages: set[tuple[type, str]] = set()
    elsewhere: set[tuple[type, str]] = set()
    unknown: set[type] = set()
    for model, definition, is_page in fields:
        if not isinstance(definition, StrawberryDjangoField):
            continue
        relation = definition.django_name or definition.python_name
        (pages if is_page else elsewhere).add((model, relation))
        for hint in definition.store.prefetch_related:
            path = hint.prefetch_through if isinstance(hint, Prefetch) else hint
            if isinstance(path, str):
                elsewhere.add((model, path.split(LOOKUP_SEP, 1)[0]))
            else:
                unknown.add(model)
    return frozenset(
        (model, relation) for model, relation in pages - elsewhere if model not in unknown
    )
