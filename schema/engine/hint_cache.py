"""The optimizer's walk of a selection, done once per selection instead of once per request.

strawberry-django's optimizer walks the selection of each queryset field it optimizes: it
collects the selected fields, looks up their Strawberry and Django definitions and gathers their
hints (only, select_related, prefetch_related, annotate) in an OptimizerStore, then applies the
store to the queryset. For one document, its variables and the field's position the walk gathers
the same hints every time, yet it cost ~10 % of a page of 100 items (profile of bench read (a)).
`optimize` keeps the walk's store per selection (the field's nodes in the parsed document, its
position less list indices, the values of the variables directives read, the optimizer's
configuration) and applies a copy of it to each request's queryset.

A store is kept only when nothing in it belongs to one request. Hints are static objects of the
schema, except what the walk builds for the caller: querysets of nested prefetches (built by the
related type's get_queryset, which filters by the caller) and whatever a callable hint returns.
So:
- the many-to-many pages built by PageBuilder (a callable hint, schema/nested_pages.py) are kept
  as `DeferredPage`s, which call the builder again for each request, with that request's Info;
- the other relations the optimizer prefetches (reverse foreign keys: a transport's batches) are
  kept as `DeferredRelation`s: the hints the walk gathered for the related rows, and the
  queryset they apply to built again for each request, as the optimizer builds it
  (`_get_prefetch_queryset`: the type's and the field's get_queryset, the page's window);
- a store holding any other Prefetch is not kept (a prefix copy under a foreign key, custom
  querysets, inheritance);
- a schema with any other callable hint (a field's, a type's, a model property's) keeps nothing
  (`hints_are_static`, checked once when the schema is built).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import astuple, dataclass, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.db.models.manager import BaseManager
from graphql import (
    GraphQLResolveInfo,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.pyutils import Path
from strawberry.types import Info
from strawberry.types.nodes import get_variable_values
from strawberry_django import optimizer as library_optimizer
from strawberry_django.optimizer import (
    OptimizerConfig,
    OptimizerStore,
    _get_gql_definition,
    _get_model_hints,
    is_optimized,
)
from strawberry_django.optimizer import optimize as optimize_every_time
from strawberry_django.queryset import get_queryset_config
from strawberry_django.utils.inspect import get_possible_concrete_types, is_inheritance_qs

from schema.engine.identity import IdentityMap

if TYPE_CHECKING:
    from strawberry_django.utils.typing import PrefetchType

# GraphQLSchema.extensions key: whether every hint of the schema is static (`hints_are_static`).
STATIC_HINTS = "majestic.static_hints"

# Selections whose stores are kept, least recently used first out. A document's selections number
# a few; this holds the busy documents of a deployment.
KEPT_SELECTIONS = 512

_kept: OrderedDict[tuple[Any, ...], KeptStore] = OrderedDict()
_kept_lock = threading.Lock()

# Set while `optimize` walks a selection: the pages PageBuilder builds meanwhile.
_built_pages: ContextVar[list[tuple[Any, Info, Prefetch]] | None] = ContextVar(
    "majestic_built_pages", default=None
)


@dataclass(frozen=True)
class KeptStore:
    store: OptimizerStore
    # Keep the objects whose ids make the key alive, so no other object takes their id.
    held: tuple[Any, ...]


# Set while `optimize` walks a selection: the relations the optimizer prefetches meanwhile.
_built_relations: ContextVar[list[DeferredRelation] | None] = ContextVar(
    "majestic_built_relations", default=None
)


def note_built_page(builder: Callable[[Info], Prefetch], info: Info, page: Prefetch) -> None:
    """PageBuilder reports each page it builds (kept as a DeferredPage if the walk is)."""
    pages = _built_pages.get()
    if pages is not None:
        pages.append((builder, info, page))


@dataclass(frozen=True)
class FieldPosition:
    """Where in the document a kept page's field sits: what its Info is re-made from for each
    request (the rest of the Info, context, variables and operation, is that request's)."""

    field_name: str
    field_nodes: tuple[Any, ...]
    return_type: Any
    parent_type: Any
    path: Path

    @classmethod
    def of(cls, raw: GraphQLResolveInfo) -> FieldPosition:
        return cls(
            raw.field_name, tuple(raw.field_nodes), raw.return_type, raw.parent_type, raw.path
        )

    def in_request(self, raw: GraphQLResolveInfo) -> GraphQLResolveInfo:
        return raw._replace(
            field_name=self.field_name,
            field_nodes=list(self.field_nodes),
            return_type=self.return_type,
            parent_type=self.parent_type,
            path=self.path,
        )


@dataclass(frozen=True, eq=False)
class DeferredPage:
    """A kept store's nested page: builds it for each request, with the Info the walk gave the
    page's field, re-made from the Info the store is applied with."""

    builder: Callable[[Info], Prefetch]
    field: Any  # the page's Strawberry field
    position: FieldPosition

    @classmethod
    def of(cls, builder: Callable[[Info], Prefetch], info: Info) -> DeferredPage:
        return cls(builder, info._field, FieldPosition.of(info._raw_info))

    def __call__(self, info: Info) -> Prefetch:
        raw = self.position.in_request(info._raw_info)
        return self.builder(type(info)(_raw_info=raw, _field=self.field))


@dataclass(frozen=True, eq=False)
class DeferredRelation:
    """A kept store's prefetched relation (`_get_hints_from_django_relation`): the hints the walk
    gathered for the related rows (`store`, its own relations deferred too), applied for each
    request to the queryset the optimizer builds for that request (`_get_prefetch_queryset`)."""

    walked: Prefetch  # the walk's own lookup, which this one stands for in the kept store
    store: OptimizerStore
    remote_model: type
    field: Any  # the relation's Strawberry field
    field_parent_type: Any  # the GraphQL type that holds the field
    field_node: Any
    related_field_id: str | None
    config: OptimizerConfig
    position: FieldPosition

    def __call__(self, info: Info) -> Prefetch:
        raw = self.position.in_request(info._raw_info)
        queryset = library_optimizer._get_prefetch_queryset(
            self.remote_model,
            raw.schema._strawberry_schema,  # type: ignore[attr-defined]  # set there by strawberry
            self.field,
            self.field_parent_type,
            self.field_node,
            config=self.config,
            info=raw,
            related_field_id=self.related_field_id,
        )
        lookup = Prefetch(
            self.walked.prefetch_through,
            queryset=self.store.apply(queryset, info=raw, config=self.config),
        )
        # The optimizer's mark on its own lookups: merged with another on the same relation,
        # its queryset wins (OptimizerStore._apply_prefetch_related).
        lookup._optimizer_sentinel = library_optimizer._sentinel  # type: ignore[attr-defined]  # the library's private mark
        return lookup


_library_relation_hints = library_optimizer._get_hints_from_django_relation


def _relation_hints_noted(
    field: Any,
    field_selection: Any,
    model_field: Any,
    model_fieldname: str,
    schema: Any,
    *,
    config: OptimizerConfig,
    parent_type: Any,
    field_info: GraphQLResolveInfo,
    path: str,
    cache: dict[type, list[tuple[int, OptimizerStore]]],
    level: int = 0,
) -> OptimizerStore:
    """strawberry-django's `_get_hints_from_django_relation`, noting (while `optimize` walks) what
    it needs to build the relation's lookup again: the related rows' store, which it adds to
    `cache` just before building the lookup, and its own arguments."""
    remote = getattr(model_field, "remote_field", None)
    remote_model = getattr(remote, "model", None)
    stores_before = len(cache.get(remote_model, ()))  # type: ignore[arg-type]  # None: no entry
    store = _library_relation_hints(
        field,
        field_selection,
        model_field,
        model_fieldname,
        schema,
        config=config,
        parent_type=parent_type,
        field_info=field_info,
        path=path,
        cache=cache,
        level=level,
    )
    notes = _built_relations.get()
    if notes is None:
        return store
    stores = cache.get(remote_model, [])  # type: ignore[arg-type]  # None: no entry
    walked = store.prefetch_related[-1] if store.prefetch_related else None
    if (
        len(stores) > stores_before
        and stores[-1][0] == level
        and isinstance(walked, Prefetch)
        and walked.prefetch_through == path
        and walked.queryset is not None
        and not is_inheritance_qs(walked.queryset)
    ):
        notes.append(
            DeferredRelation(
                walked=walked,
                store=stores[-1][1].copy(),
                remote_model=remote_model,  # type: ignore[arg-type]  # a relation's model
                field=field,
                field_parent_type=parent_type,
                field_node=field_selection,
                related_field_id=getattr(remote, "attname", None) or getattr(remote, "name", None),
                config=config,
                position=FieldPosition.of(field_info),
            )
        )
    return store


def note_relations_while_walking() -> None:
    """Put `_relation_hints_noted` in the optimizer's module, where its walk calls the function by
    name (once; outside a walk of `optimize` it only passes the call on)."""
    library_optimizer._get_hints_from_django_relation = _relation_hints_noted


def optimize(
    qs: QuerySet | BaseManager,
    info: GraphQLResolveInfo | Info,
    *,
    config: OptimizerConfig,
    store: OptimizerStore | None = None,
) -> QuerySet:
    """strawberry_django.optimizer.optimize, with the walk's store kept per selection."""
    raw = info._raw_info if isinstance(info, Info) else info
    if isinstance(qs, BaseManager):
        qs = qs.all()
    if (
        not isinstance(qs, QuerySet)
        or is_optimized(qs)
        or qs._result_cache is not None
        or is_inheritance_qs(qs)  # the walk collects subclasses to select: left to the library
        or not (raw.schema.extensions or {}).get(STATIC_HINTS)
    ):
        return optimize_every_time(qs, raw, config=config, store=store)
    variables = get_variable_values(raw)
    key = (
        qs.model,
        id(raw.return_type),
        tuple(id(node) for node in raw.field_nodes),
        _path_key(raw.path),
        tuple((name, _frozen(variables.get(name))) for name in _directive_variables(raw)),
        astuple(config),
    )
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    if kept is not None:
        hints = kept.store
    else:
        walked = _walk(qs.model, raw, config)
        if walked is None:
            return qs  # not a type of this schema: as the library leaves it
        hints, kept_store = walked
        if kept_store is not None:
            with _kept_lock:
                _kept[key] = KeptStore(kept_store, (raw.return_type, tuple(raw.field_nodes)))
                while len(_kept) > KEPT_SELECTIONS:
                    _kept.popitem(last=False)
    store = store or OptimizerStore()
    store |= hints  # copies the hints: applying never changes a kept store
    if store:
        qs = store.apply(qs, info=raw, config=config)
        get_queryset_config(qs).optimized = True
    return qs


def _walk(
    model: type, raw: GraphQLResolveInfo, config: OptimizerConfig
) -> tuple[OptimizerStore, OptimizerStore | None] | None:
    """The selection's hints as strawberry-django's optimize gathers them, and the store to keep
    (None when the hints hold something of this request's)."""
    schema = raw.schema._strawberry_schema  # type: ignore[attr-defined]  # set there by strawberry
    strawberry_type = schema.get_type_by_name(get_named_type(raw.return_type).name)
    if strawberry_type is None:
        return None
    pages: list[tuple[Any, Info, Prefetch]] = []
    relations: list[DeferredRelation] = []
    token = _built_pages.set(pages)
    relations_token = _built_relations.set(relations)
    try:
        store = OptimizerStore()
        for definition in get_possible_concrete_types(model, schema, strawberry_type):
            found = _get_model_hints(
                model,
                schema,
                definition,
                parent_type=_get_gql_definition(schema, definition),
                info=raw,
                config=config,
            )
            if found is not None:
                store |= found
    finally:
        _built_relations.reset(relations_token)
        _built_pages.reset(token)
    return store, _keepable(store, pages, relations)


def _keepable(
    store: OptimizerStore,
    pages: list[tuple[Any, Info, Prefetch]],
    relations: list[DeferredRelation],
) -> OptimizerStore | None:
    """`store` with PageBuilder's pages and the optimizer's relations deferred (theirs too), or
    None when another Prefetch is in it."""
    deferred: dict[int, Any] = {
        id(page): DeferredPage.of(builder, info) for builder, info, page in pages
    }
    # A relation is noted once its own nested relations are: theirs are deferred first.
    for relation in relations:
        inner = _deferred_store(relation.store, deferred)
        if inner is not None:
            deferred[id(relation.walked)] = replace(relation, store=inner)
    return _deferred_store(store, deferred)


def _deferred_store(store: OptimizerStore, deferred: dict[int, Any]) -> OptimizerStore | None:
    """A copy of `store` whose Prefetches are the deferred ones standing for them, or None when
    one has none."""
    prefetches: list[PrefetchType] = []
    for hint in store.prefetch_related:
        if isinstance(hint, Prefetch):
            if id(hint) not in deferred:
                return None
            hint = deferred[id(hint)]
        prefetches.append(hint)
    return OptimizerStore(
        only=list(store.only),
        select_related=list(store.select_related),
        prefetch_related=prefetches,
        annotate=dict(store.annotate),
    )


def _path_key(path: Path | None) -> tuple[tuple[Any, str | None], ...]:
    """The field's position without list indices (the walk reads the path's type names: every
    row of a list is walked alike)."""
    keys = []
    while path is not None:
        if not isinstance(path.key, int):
            keys.append((path.key, path.typename))
        path = path.prev
    return tuple(keys)


_directive_variables_of: IdentityMap[tuple[str, ...]] = IdentityMap()


def _directive_variables(raw: GraphQLResolveInfo) -> tuple[str, ...]:
    """The variables the operation's directives read (`@include(if: $x)`), the only ones that
    change what the walk keeps: a page's arguments are read when its DeferredPage builds it, and
    any other argument the walk reads ends in a Prefetch, which is not kept."""
    operation = raw.operation
    names = _directive_variables_of.get(operation)
    if names is None:
        collector = _DirectiveVariables()
        for node in (operation, *raw.fragments.values()):
            visit(node, collector)
        names = tuple(sorted(collector.names))
        _directive_variables_of[operation] = names
    return names


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.depth = 0  # > 0 inside a directive

    def enter_directive(self, *_: Any) -> None:
        self.depth += 1

    def leave_directive(self, *_: Any) -> None:
        self.depth -= 1

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if self.depth:
            self.names.add(node.name.value)


def _frozen(value: Any) -> Any:
    """`value` (coerced variables) as something hashable that compares the same."""
    if isinstance(value, dict):
        return tuple(
            sorted(((key, _frozen(item)) for key, item in value.items()), key=itemgetter(0))
        )
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return value


def hints_are_static(
    type_stores: Iterable[OptimizerStore | None],
    field_stores: Iterable[OptimizerStore | None],
    models: Iterable[type],
    is_ours: Callable[[Any], bool],
) -> bool:
    """Whether no hint of the schema is computed per request: no callable among the stores of
    its Django types, their fields and their models' properties, other than ours (`is_ours`)."""
    property_stores = [
        getattr(attribute, "store", None)
        for model in models
        for klass in model.__mro__  # properties of abstract parents too
        for attribute in vars(klass).values()
    ]
    for store in (*type_stores, *field_stores, *property_stores):
        if not isinstance(store, OptimizerStore):
            continue
        hints = (*store.prefetch_related, *store.annotate.values())
        if any(callable(hint) and not is_ours(hint) for hint in hints):
            return False
    return True


def forget_kept_stores() -> None:
    """Drop every kept store (tests that change hints of a built schema)."""
    with _kept_lock:
        _kept.clear()
