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
pages are built by `PageBuilder` (the optimizer hint of their field) without it; fetch_pages first
reads at most `limit` x parents + 1 rows: when they all fit, each page is cut here (`_whole_pages`);
when not, some parent has a long list and the window is added after all (one query more; the
relation then goes straight to the window for a minute). Wherever Django's prefetch runs a page
(inside another prefetch, or under a select_related path), it reads the page with its window
(`UnwindowedPage.queryset`). Reverse foreign-key pages keep strawberry-django's
window: Django's prefetcher reads their queryset whole.

Only relations that nothing but a plain nested connection field reads get this (`page_relations`):
any other field or optimizer hint over the same relation would look for Django's own cache. Inside
`ordinary_execution()` PageBuilder puts strawberry-django's window on, as the library would, and
nothing is rewritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models import IntegerField, Model, Prefetch, QuerySet, prefetch_related_objects
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import ModelIterable
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.nodes import get_variable_values
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import mark_optimized_by_prefetching
from strawberry_django.pagination import apply_window_pagination
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay.cursor_connection import apply_cursor_pagination
from strawberry_django.settings import strawberry_django_settings

from schema.engine.hint_cache import note_built_page
from schema.engine.rows import ModelRows, with_plain_rows

# The annotations of strawberry-django's nested-page window, which _whole_pages emulates.
ROW_NUMBER = "_strawberry_row_number"
TOTAL_COUNT = "_strawberry_total_count"

# GraphQLSchema.extensions key: the (model, relation) pairs whose pages are fetched here.
PAGE_RELATIONS = "majestic.page_relations"


def page_attribute(relation: str) -> str:
    """Where a parent row keeps its NestedPage of `relation` (a name no model field has)."""
    return f"_majestic_page_{relation}"


class NestedPage:
    """One parent's rows of a nested page, and the queryset they were fetched with."""

    __slots__ = ("for_parent", "rows", "source", "whole")

    def __init__(
        self, rows: list[Any], source: QuerySet, *, for_parent: bool = False, whole: bool = False
    ) -> None:
        self.rows = rows
        self.source = source
        # False: `source` is shared by every parent of the list (fetch_pages); True: it is
        # Django's prefetched queryset of this parent.
        self.for_parent = for_parent
        # Every row of the parent's list was read (`_whole_pages`): no rows means none at all.
        self.whole = whole

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
        # As Django's prefetch_one_level does.
        queryset: QuerySet = manager._apply_rel_filters(self.source)
        if self.whole and not self.rows:
            # strawberry-django would count an empty page's rows in SQL (a windowed one it knows
            # to be empty): there are none to count.
            queryset = queryset.none()
        queryset._result_cache = self.rows
        queryset._prefetch_done = True  # type: ignore[attr-defined]  # Django's private prefetch state
        return queryset


class UnwindowedPage(Prefetch):
    """A many-to-many page lookup built by PageBuilder: `page_queryset` is ordered and filtered
    like strawberry-django's page, without its window, which caps each parent's rows at `limit`.

    fetch_pages reads `page_queryset`. Wherever Django's prefetch runs the lookup instead (inside
    another prefetch, under a select_related path, for a schema without NestedPageOptimizer) it
    reads `queryset`, and gets the page with its window, built then: Django keeps that queryset
    on each parent, and strawberry-django counts an empty page's rows without SQL only when it
    finds the window there. While NestedPageOptimizer optimizes (`page_hints_pending`),
    `queryset` is `page_queryset`: the optimizer reads every lookup's queryset and merges hints
    into it in place, and building the window there cost ~6 % of a page of 100 items.
    """

    def __init__(
        self, lookup: str, queryset: QuerySet, *, related_field_id: str, limit: int | None
    ) -> None:
        self._with_window: QuerySet | None = None
        super().__init__(lookup)
        self.page_queryset = queryset
        self.related_field_id = related_field_id
        self.limit = limit

    @property
    def queryset(self) -> QuerySet:
        if _optimizing.get():
            return self.page_queryset
        if self._with_window is None:
            self._with_window = self.windowed(self.page_queryset)
        return self._with_window

    @queryset.setter
    def queryset(self, value: QuerySet | None) -> None:
        self._with_window = value  # None (from Prefetch.__init__): built when first read

    def windowed(self, queryset: QuerySet) -> QuerySet:
        """`queryset` with the window strawberry-django puts on this page."""
        return apply_window_pagination(
            queryset, related_field_id=self.related_field_id, limit=self.limit
        )


class PagePrefetch(Prefetch):
    """A nested page lookup, fetched by RowsWithPages. Its `to_attr` is the NestedPage's
    attribute, so Django's own prefetch, which runs after, finds it done and skips it.
    `unwindowed`: the page has no window yet (see fetch_pages)."""

    queryset: QuerySet  # given, never None
    to_attr: str

    def __init__(
        self, lookup: str, queryset: QuerySet, *, unwindowed: UnwindowedPage | None = None
    ) -> None:
        super().__init__(lookup, queryset=queryset, to_attr=page_attribute(lookup))
        self.unwindowed = unwindowed


class RowsWithPages(ModelRows):
    """Model rows; once all are read, their nested pages (PagePrefetch lookups) are fetched, then
    the other lookups by Django's prefetch."""

    def __iter__(self) -> Iterator[Any]:
        rows = list(super().__iter__())
        queryset = self.queryset
        prefetch_all(rows, queryset._prefetch_related_lookups)  # type: ignore[attr-defined]  # Django's private prefetch state
        # Done: Django's own pass would skip the pages, but only after walking every row's
        # related manager once more.
        queryset._prefetch_done = True  # type: ignore[attr-defined]  # Django's private prefetch state
        return iter(rows)


def page_rows(page: QuerySet, size: int | None) -> tuple[list[Model], bool]:
    """The first `size` rows of `page` (a queryset sliced one row past `size`, all rows when
    None), and whether there were more. Only those rows get their prefetched relations and
    nested pages: the row past the page tells that more come and is never read further."""
    lookups = page._prefetch_related_lookups  # type: ignore[attr-defined]  # Django's private prefetch state
    rows = list(page.prefetch_related(None) if lookups else page)
    more = size is not None and len(rows) > size
    kept = rows[:size]
    prefetch_all(kept, lookups)
    return kept, more


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


# The parents the current operation gave NestedPages to (None outside an operation).
_pages_given: ContextVar[list[tuple[Model, str]] | None] = ContextVar(
    "majestic_pages_given", default=None
)


@contextmanager
def pages_released_after() -> Iterator[Callable[[], None]]:
    """Note the NestedPages given while the block runs; the function it yields takes them off
    their parents again. Call it once nothing reads the rows any more (a query's result is
    complete): a reverse foreign-key row points back at its parent (Django's cache of the
    relation), so a parent holding its page is a cycle, and every row of the read would wait
    for the garbage collector instead of going with the response."""
    given: list[tuple[Model, str]] = []
    token = _pages_given.set(given)

    def release() -> None:
        for parent, attribute in given:
            parent.__dict__.pop(attribute, None)
        given.clear()

    try:
        yield release
    finally:
        _pages_given.reset(token)


def fetch_pages(parents: list[Model], lookup: PagePrefetch) -> None:
    """One query for the nested pages of all `parents`; each parent gets its NestedPage."""
    parent_model, relation = type(parents[0]), lookup.prefetch_through
    # The related manager of one parent builds the query for all (as Django's prefetch does).
    manager = getattr(parents[0], relation)
    queryset, rows_by_parent = lookup.queryset, None
    unwindowed = lookup.unwindowed  # then `queryset` has no window
    if unwindowed is not None:
        if _long_lists.get((parent_model, relation), 0.0) < time.monotonic():
            related, row_key, parent_key = _page_query(manager, parents, queryset)
            distinct_parents = len({parent_key(parent) for parent in parents})
            rows_by_parent = _whole_pages(related, row_key, unwindowed.limit, distinct_parents)
            if rows_by_parent is None:
                _long_lists[parent_model, relation] = time.monotonic() + LONG_LIST_MEMORY_SECONDS
        if rows_by_parent is None:
            queryset = unwindowed.windowed(queryset)
    whole = rows_by_parent is not None
    if rows_by_parent is None:
        related, row_key, parent_key = _page_query(manager, parents, queryset)
        rows_by_parent = _by_parent(related, row_key)  # the rows' own nested pages come too
    for parent in parents:
        rows = rows_by_parent.get(parent_key(parent), [])
        parent.__dict__[lookup.to_attr] = NestedPage(rows, queryset, whole=whole)
    given = _pages_given.get()
    if given is not None:
        given.extend((parent, lookup.to_attr) for parent in parents)


Key = Callable[[Any], tuple[Any, ...]]


def _page_query(
    manager: Any, parents: list[Model], queryset: QuerySet
) -> tuple[QuerySet, Key, Key]:
    """The query of every parent's rows (as Django's prefetch builds it), the key of the parent
    each row belongs to, and each parent's key."""
    # A clone: Django adds the first parent to the queryset's hints in place, and the parents'
    # NestedPages keep `queryset`; that cycle would leave every row of the read to the garbage
    # collector instead of freeing it with the response.
    related, row_key, parent_key, _, _, _ = manager.get_prefetch_querysets(
        parents, [with_plain_rows(queryset.all())]
    )
    return related, *integer_keys(manager, row_key, parent_key)


def integer_keys(manager: Any, row_key: Key, parent_key: Key) -> tuple[Key, Key]:
    """Django's keys of a many-to-many page, faster where the key is one integer column.

    Django's keys pass each row's and each parent's value through the key field's
    get_db_prep_value, so that what the database returned and what the parent holds compare
    equal (a UUID may come back as text). An integer is its own prepared value: an int on both
    sides is used as it is (5,000 rows of a page spent more on their keys than on grouping).
    """
    through, source = getattr(manager, "through", None), getattr(manager, "source_field_name", "")
    if through is None or not source:
        return row_key, parent_key  # a reverse foreign key: Django reads the attribute already
    link = through._meta.get_field(source)
    if len(link.local_related_fields) != 1:
        return row_key, parent_key
    row_attribute = f"_prefetch_related_val_{link.local_related_fields[0].attname}"
    parent_attribute = link.foreign_related_fields[0].attname
    if not isinstance(link.foreign_related_fields[0], IntegerField):
        return row_key, parent_key

    def row_integer_key(row: Any) -> tuple[Any, ...]:
        value = row.__dict__.get(row_attribute)
        return (value,) if type(value) is int else row_key(row)

    def parent_integer_key(parent: Any) -> tuple[Any, ...]:
        value = parent.__dict__.get(parent_attribute)
        return (value,) if type(value) is int else parent_key(parent)

    return row_integer_key, parent_integer_key


def _by_parent(rows: Iterable[Any], row_key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row_key(row), []).append(row)
    return grouped


def _whole_pages(
    related: QuerySet, row_key: Callable[[Any], Any], limit: int | None, parent_count: int
) -> dict[Any, list[Any]] | None:
    """Every parent's page, cut to `limit` rows here rather than by a window function in SQL,
    which costs more to build and run than the rows it spares on ordinary pages.

    Reads at most as many rows as the window could return, without their own nested pages; when
    there are more (some parent has a long list), None: the window decides. The rows kept then
    get their nested pages. No limit: every row.
    """
    rows_only = related.prefetch_related(None)
    if limit is None:
        rows = list(rows_only)
    else:
        most = limit * parent_count
        rows = list(rows_only[: most + 1])
        if len(rows) > most:
            return None
    grouped = _by_parent(rows, row_key)
    for page in grouped.values():
        total = len(page)
        del page[limit:]
        for number, row in enumerate(page, 1):  # what the window's annotations would say
            row.__dict__[ROW_NUMBER] = number
            row.__dict__[TOTAL_COUNT] = total
    lookups = related._prefetch_related_lookups  # type: ignore[attr-defined]  # Django's private prefetch state
    prefetch_all([row for page in grouped.values() for row in page], lookups)
    return grouped


# Set while NestedPageOptimizer optimizes: UnwindowedPage.queryset is then the page unwindowed.
_optimizing: ContextVar[bool] = ContextVar("majestic_optimizing", default=False)


@contextmanager
def page_hints_pending() -> Iterator[None]:
    """While the optimizer adds its hints to querysets: UnwindowedPage shows them the page
    without its window, to which they then apply as well."""
    token = _optimizing.set(True)
    try:
        yield
    finally:
        _optimizing.reset(token)


# Set while PageBuilder builds a page's queryset: the optimizer then leaves the page's own nested
# pages as they are, for with_nested_pages to place once the whole query is known.
_building_page: ContextVar[bool] = ContextVar("majestic_building_page", default=False)


def building_page() -> bool:
    return _building_page.get()


class PageBuilder:
    """A many-to-many nested page's lookup, as strawberry-django's optimizer would build it but
    without its window (`ROW_NUMBER() OVER (PARTITION BY parent) <= limit`) when the page is
    taken from one end (`first` or `last`): the window costs more to build than ordinary pages
    spare, and fetch_pages cuts the pages in Python, or adds the window when a list is long.

    The optimizer calls it as a `prefetch_related` hint of the nested connection field, with the
    field's Info (and then leaves that relation to it); where the optimizer's walk is kept
    (schema/hint_cache.py), a DeferredPage calls it again for each request. Each part is
    strawberry-django's own: the field's get_queryset (the type's get_queryset, permissions, the
    optimizer for the page's own selection) and apply_cursor_pagination (order, `after`/`before`,
    the limits of `first`/`last`).
    """

    def __init__(
        self,
        definition: StrawberryDjangoField,
        relation: str,
        model: type[Model],
        max_results: int | None,
        shortcuts_on: Callable[[], bool],
    ) -> None:
        field = model._meta.get_field(relation)
        related_model = field.related_model
        remote = field.remote_field  # the field of the page's rows that points back at `model`
        assert related_model is not None and remote is not None  # `relation` is a relation
        self.definition = definition
        self.relation = relation
        self.related_model = related_model
        self.related_field_id = getattr(remote, "attname", None) or remote.name
        self.max_results = max_results
        self.shortcuts_on = shortcuts_on

    def __call__(self, info: Any) -> Prefetch:
        raw = info._raw_info
        arguments = get_argument_values(  # as strawberry-django's optimizer reads them
            raw.parent_type.fields[raw.field_name],
            raw.field_nodes[0],
            VariableValues(sources={}, coerced=get_variable_values(raw)),
        )
        pages = {name: arguments.get(name) for name in ("before", "after", "first", "last")}
        token = _building_page.set(True)
        try:
            queryset = self.definition.get_queryset(
                self.related_model._base_manager.all(),
                info,
                _strawberry_related_field_id=self.related_field_id,
                **pages,
            )
        finally:
            _building_page.reset(token)
        # Pages from both ends take a window of their own: left to strawberry-django.
        without_window = (pages["first"] is None or pages["last"] is None) and self.shortcuts_on()
        queryset, _ = apply_cursor_pagination(
            queryset,
            related_field_id=None if without_window else self.related_field_id,
            info=info,
            max_results=self.max_results,
            **pages,
        )
        if not without_window:
            page = Prefetch(self.relation, queryset=mark_optimized_by_prefetching(queryset))
            note_built_page(self, info, page)
            return page
        # apply_cursor_pagination sliced the rows of one list ([:first + 1] or, reversed,
        # [:last + 1]): that slice is each parent's limit here. Without either, the window
        # caps a page at the default page size.
        limit = queryset.query.high_mark if queryset.query.is_sliced else default_page_limit()
        queryset = queryset.all()
        queryset.query.clear_limits()
        page = UnwindowedPage(
            self.relation,
            queryset=mark_optimized_by_prefetching(queryset),
            related_field_id=self.related_field_id,
            limit=limit,
        )
        note_built_page(self, info, page)
        return page


def default_page_limit() -> int | None:
    """The rows a nested page without `first` or `last` may hold (None: all), as
    strawberry_django.pagination.apply_window_pagination works it out."""
    settings = strawberry_django_settings()
    limit, most = settings["PAGINATION_DEFAULT_LIMIT"], settings["PAGINATION_MAX_LIMIT"]
    if limit is not None and limit < 0:
        limit = None
    return most if most is not None and (limit is None or limit > most) else limit


def with_nested_pages(queryset: QuerySet, page_relations: frozenset[tuple[type, str]]) -> QuerySet:
    """`queryset` with its nested-page lookups (at any depth) fetched by RowsWithPages."""
    lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]  # Django's private prefetch state
    if not lookups or queryset._iterable_class not in (ModelIterable, ModelRows, RowsWithPages):
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
    as it was, since Django's prefetch runs it and the lookups inside it (an UnwindowedPage among
    them with its window)."""
    if not isinstance(lookup, Prefetch):
        return lookup
    relation = lookup.prefetch_through
    if LOOKUP_SEP in relation or lookup.to_attr is not None:
        return lookup
    if isinstance(lookup, UnwindowedPage):
        rows = with_nested_pages(lookup.page_queryset, page_relations)
        return PagePrefetch(relation, queryset=rows, unwindowed=lookup)
    inner = lookup.queryset
    if inner is None:
        return lookup
    config = get_queryset_config(inner)
    if (
        type(lookup) is not Prefetch
        or (model, relation) not in page_relations
        or not config.optimized_by_prefetching
        or config.ordering_descriptors is None
    ):
        return lookup
    return PagePrefetch(relation, queryset=with_nested_pages(inner, page_relations))


def page_relations(fields: Iterable[tuple[type, Any, bool]]) -> frozenset[tuple[type, str]]:
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
            if isinstance(hint, PageBuilder):
                continue  # ours (apply_shortcuts): the page itself
            path = hint.prefetch_through if isinstance(hint, Prefetch) else hint
            if isinstance(path, str):
                elsewhere.add((model, path.split(LOOKUP_SEP, 1)[0]))
            else:
                unknown.add(model)
    return frozenset(
        (model, relation) for model, relation in pages - elsewhere if model not in unknown
    )
