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

Only relations that nothing but a plain nested connection field reads get this (`page_relations`):
any other field or optimizer hint over the same relation would look for Django's own cache. Inside
`ordinary_execution()` nothing is rewritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Model, Prefetch, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import ModelIterable
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.queryset import get_queryset_config

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
    """Model rows; once all are read, their nested pages (PagePrefetch lookups) are fetched."""

    def __iter__(self) -> Iterator[Any]:
        rows = list(super().__iter__())
        if rows:
            for lookup in self.queryset._prefetch_related_lookups:
                if isinstance(lookup, PagePrefetch):
                    fetch_pages(rows, lookup)
        return iter(rows)


def fetch_pages(parents: list[Model], lookup: PagePrefetch) -> None:
    """One query for the nested pages of all `parents`; each parent gets its NestedPage."""
    relation = lookup.prefetch_through
    # The related manager of one parent builds the query for all (as Django's prefetch does).
    manager = getattr(parents[0], relation)
    related, row_key, parent_key, _, _, _ = manager.get_prefetch_querysets(
        parents, [lookup.queryset]
    )
    rows_by_parent: dict[Any, list[Any]] = {}
    for row in related:  # evaluating it fetches the rows' own nested pages too
        rows_by_parent.setdefault(row_key(row), []).append(row)
    attribute = lookup.to_attr
    source = lookup.queryset
    for parent in parents:
        parent.__dict__[attribute] = NestedPage(rows_by_parent.get(parent_key(parent), []), source)


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
    if not isinstance(lookup, Prefetch) or lookup.queryset is None:
        return lookup
    inner = with_nested_pages(lookup.queryset, page_relations)
    relation = lookup.prefetch_through
    config = get_queryset_config(inner)
    if (
        type(lookup) is Prefetch
        and lookup.to_attr is None
        and LOOKUP_SEP not in relation
        and (model, relation) in page_relations
        and config.optimized_by_prefetching
        and config.ordering_descriptors is not None
    ):
        return PagePrefetch(relation, queryset=inner, to_attr=page_attribute(relation))
    if inner is lookup.queryset:
        return lookup
    return Prefetch(relation, queryset=inner, to_attr=lookup.to_attr)


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
