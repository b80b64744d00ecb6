"""schema/engine/COMPATIBILITY.md stays the list of what the engine and the kit take from libraries.

(a) Its "Checked with" table names the versions the list was reviewed against: each must equal
the pin in pyproject.toml and the installed version, so moving a pin fails here until someone
reviews the list against the new release and updates the table.

(b) What the list names and can be checked cheaply is checked: private names importable, private
attributes present, overridden signatures unchanged, relied-upon lines still in the library's
source, and the behaviours the engine builds on (a built Strawberry schema, Django's querysets and
related managers). Each check is a row of a table below: extend the table with the list.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import tomllib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import strawberry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import ForeignObject, Prefetch, QuerySet
from django.db.models.fields.related_descriptors import (
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
)
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLSchema, GraphQLString
from graphql.execution import Executor, MiddlewareManager
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.nodes import get_variable_values
from strawberry_django.fields.field import (
    StrawberryDjangoConnectionExtension,
    StrawberryDjangoField,
)
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.queryset import get_queryset_config
from strawberry_django.settings import strawberry_django_settings

from schema.engine import nested_pages, plans
from schema.engine.execution import prefetch_cache_name

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "schema" / "engine" / "COMPATIBILITY.md"
DOC_NAME = "schema/engine/COMPATIBILITY.md"
PYPROJECT = ROOT / "pyproject.toml"

# The libraries whose private parts the list covers, as pyproject.toml names them.
CHECKED_PACKAGES = ("Django", "strawberry-graphql", "strawberry-graphql-django", "graphql-core")

_TABLE_ROW = re.compile(r"^\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|$")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,]+)")


def canonical(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def checked_with(doc: Path) -> dict[str, str]:
    """The `| package | version |` rows of the doc's "Checked with" section."""
    versions: dict[str, str] = {}
    in_section = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_section = line.strip("# ").lower() == "checked with"
            continue
        match = _TABLE_ROW.match(line.strip()) if in_section else None
        if match is None:
            continue
        name, version = match.groups()
        if name.lower() == "package" or not name.strip("-: "):
            continue  # the header and its separator
        versions[name] = version
    return versions


def pins(pyproject: Path) -> dict[str, str]:
    """`Name==version` of pyproject's `project.dependencies`, by canonical name."""
    with pyproject.open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    found: dict[str, str] = {}
    for requirement in dependencies:
        if match := _PIN.match(requirement):
            found[canonical(match.group(1))] = match.group(2)
    return found


def version_drift(
    doc: Path, pyproject: Path, installed: Callable[[str], str] = metadata.version
) -> list[str]:
    """One message per package whose checked version is not both its pin and its install."""
    checked = {canonical(name): version for name, version in checked_with(doc).items()}
    pinned = pins(pyproject)
    problems = []
    for package in CHECKED_PACKAGES:
        version = checked.get(canonical(package))
        pin = pinned.get(canonical(package))
        if version is None:
            problems.append(f"{package} is missing from the Checked with table of {DOC_NAME}")
        elif pin != version:
            problems.append(
                f"{package} is pinned at {pin} but {DOC_NAME} was checked with {version}: "
                "review the list against the new version and update it"
            )
        elif (present := installed(package)) != version:
            problems.append(
                f"{package} is installed at {present} but {DOC_NAME} was checked with "
                f"{version}: review the list against the new version and update it"
            )
    unexpected = set(checked) - {canonical(package) for package in CHECKED_PACKAGES}
    problems.extend(
        f"{name} is in the Checked with table of {DOC_NAME}, which lists only the four libraries"
        for name in sorted(unexpected)
    )
    return problems


# --- (a) the versions the list was checked with ----------------------------------------------


def test_the_list_was_checked_with_the_pinned_and_installed_versions() -> None:
    assert version_drift(DOC, PYPROJECT) == []


def test_the_table_names_exactly_the_four_libraries() -> None:
    assert {canonical(name) for name in checked_with(DOC)} == {
        canonical(package) for package in CHECKED_PACKAGES
    }


def test_a_version_the_list_was_not_checked_with_fails(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    version = checked_with(DOC)["graphql-core"]
    row = f"| graphql-core | {version} |"
    assert text.count(row) == 1
    copy = tmp_path / "COMPATIBILITY.md"
    copy.write_text(text.replace(row, "| graphql-core | 0.0.1 |"), encoding="utf-8")

    assert checked_with(copy)["graphql-core"] == "0.0.1"
    pin = pins(PYPROJECT)["graphql-core"]
    assert version_drift(copy, PYPROJECT) == [
        f"graphql-core is pinned at {pin} but schema/engine/COMPATIBILITY.md was checked with "
        "0.0.1: review the list against the new version and update it"
    ]


def test_a_moved_pin_fails(tmp_path: Path) -> None:
    text = PYPROJECT.read_text(encoding="utf-8")
    pin = pins(PYPROJECT)["django"]
    assert text.count(f'"Django=={pin}"') == 1
    copy = tmp_path / "pyproject.toml"
    copy.write_text(text.replace(f'"Django=={pin}"', '"Django==9.9.9"'), encoding="utf-8")

    assert version_drift(DOC, copy) == [
        f"Django is pinned at 9.9.9 but schema/engine/COMPATIBILITY.md was checked with {pin}: "
        "review the list against the new version and update it"
    ]


def test_an_installed_version_the_list_was_not_checked_with_fails() -> None:
    def installed(package: str) -> str:
        return "0.0.1" if package == "strawberry-graphql" else metadata.version(package)

    assert version_drift(DOC, PYPROJECT, installed) == [
        "strawberry-graphql is installed at 0.0.1 but schema/engine/COMPATIBILITY.md was "
        f"checked with {checked_with(DOC)['strawberry-graphql']}: review the list against the "
        "new version and update it"
    ]


# --- (b) what the list names ------------------------------------------------------------------


def resolve(module: str, dotted: str) -> Any:
    """`module.dotted`, attribute by attribute (the module itself for an empty `dotted`)."""
    value: Any = importlib.import_module(module)
    for part in filter(None, dotted.split(".")):
        value = getattr(value, part)
    return value


# (module, dotted name): each must import and resolve.
NAMES: list[tuple[str, str]] = [
    # graphql-core
    ("graphql.execution", "Executor.execute_field"),
    ("graphql.execution", "Executor.complete_object_value"),
    ("graphql.execution", "Executor.execute_operation"),
    ("graphql.execution", "Executor.collect_subfields"),
    ("graphql.execution", "Executor.build"),
    ("graphql.execution", "Executor.build_per_event_executor"),
    ("graphql.execution.values", "get_argument_values"),
    ("graphql.execution.values", "VariableValues"),
    ("graphql.execution.collect_fields", "CollectedFields"),
    ("graphql.execution.collect_fields", "FieldDetails"),
    ("graphql.execution.collect_fields", "FragmentDetails"),
    ("graphql.execution.incremental", "IncrementalExecutor"),
    ("graphql", "GraphQLResolveInfo._replace"),
    # Strawberry
    ("strawberry.schema.schema", "StrawberryGraphQLCoreExecutionContext.build_resolve_info"),
    ("strawberry.schema.schema", "Schema._get_middleware_manager"),
    ("strawberry.schema.schema", "Schema.get_extensions"),
    ("strawberry.schema.schema_converter", "GraphQLCoreConverter.DEFINITION_BACKREF"),
    ("strawberry.types.nodes", "get_variable_values"),
    ("strawberry.utils.inspect", "in_async_context"),
    ("strawberry.relay.utils", "should_resolve_list_connection_edges"),
    ("strawberry.relay.utils", "to_base64"),
    ("strawberry.relay.utils", "from_base64"),
    ("strawberry.relay.utils", "SliceMetadata.from_arguments"),
    ("strawberry.relay.types", "Connection.resolve_node"),
    ("strawberry.relay.types", "Edge.resolve_edge"),
    ("strawberry.relay.types", "Edge.CURSOR_PREFIX"),
    ("strawberry.types.cast", "TYPE_CAST_ATTRIBUTE"),
    ("strawberry.types.field", "StrawberryField.arguments"),
    ("strawberry.types.field", "StrawberryField.is_async"),
    ("strawberry.types.fields.resolver", "StrawberryResolver.self_parameter"),
    ("strawberry.types.fields.resolver", "StrawberryResolver.root_parameter"),
    ("strawberry.types.fields.resolver", "StrawberryResolver.parent_parameter"),
    ("strawberry.types.fields.resolver", "StrawberryResolver.info_parameter"),
    ("strawberry.types.base", "StrawberryList"),
    ("strawberry.types.base", "StrawberryOptional"),
    ("strawberry.types.base", "has_object_definition"),
    ("strawberry.extensions", "MaskErrors.anonymise_error"),
    ("strawberry.extensions", "FieldExtension.map_arguments"),
    # strawberry-django
    ("strawberry_django.optimizer", "_get_model_hints"),
    ("strawberry_django.optimizer", "_get_gql_definition"),
    ("strawberry_django.optimizer", "_get_prefetch_queryset"),
    ("strawberry_django.optimizer", "_sentinel"),
    ("strawberry_django.optimizer", "optimize"),
    ("strawberry_django.optimizer", "optimizer"),
    ("strawberry_django.optimizer", "is_optimized"),
    ("strawberry_django.optimizer", "is_optimized_by_prefetching"),
    ("strawberry_django.optimizer", "mark_optimized_by_prefetching"),
    ("strawberry_django.optimizer", "OptimizerStore.apply"),
    ("strawberry_django.optimizer", "OptimizerStore.with_resolved_callables"),
    ("strawberry_django.optimizer", "DjangoOptimizerExtension.optimize"),
    ("strawberry_django.optimizer", "DjangoOptimizerExtension.enabled"),
    ("strawberry_django.queryset", "get_queryset_config"),
    ("strawberry_django.fields.field", "StrawberryDjangoField.get_queryset"),
    ("strawberry_django.fields.field", "StrawberryDjangoField.is_list"),
    ("strawberry_django.fields.field", "StrawberryDjangoField.is_connection"),
    ("strawberry_django.fields.field", "StrawberryDjangoField.is_paginated"),
    ("strawberry_django.fields.field", "StrawberryDjangoConnectionExtension.resolve"),
    ("strawberry_django.fields.field", "StrawberryDjangoConnectionExtension.resolve_async"),
    ("strawberry_django.relay.cursor_connection", "DjangoCursorConnection"),
    ("strawberry_django.relay.cursor_connection", "OrderedCollectionCursor.from_model"),
    ("strawberry_django.relay.cursor_connection", "OrderedCollectionCursor.from_cursor"),
    ("strawberry_django.relay.cursor_connection", "apply_cursor_pagination"),
    ("strawberry_django.relay.utils", "resolve_edge_class"),
    ("strawberry_django.pagination", "apply_window_pagination"),
    ("strawberry_django.pagination", "get_cached_total_count"),
    ("strawberry_django.pagination", "_resolve_limit"),
    ("strawberry_django.settings", "strawberry_django_settings"),
    ("strawberry_django.utils.typing", "get_django_definition"),
    ("strawberry_django.utils.inspect", "get_possible_concrete_types"),
    ("strawberry_django.utils.inspect", "is_inheritance_qs"),
    ("strawberry_django.descriptors", "ModelProperty"),
    # Django
    ("django.db.models", "QuerySet._fetch_all"),
    ("django.db.models", "QuerySet._clone"),
    ("django.db.models.query", "ModelIterable"),
    ("django.db.models.fields.related_descriptors", "ManyToManyDescriptor"),
    ("django.db.models.fields.related_descriptors", "ReverseManyToOneDescriptor"),
    ("django.db.models.fields.reverse_related", "ForeignObjectRel.cache_name"),
    ("django.db.models.fields.related", "ForeignObject.local_related_fields"),
    ("django.db.models.fields.related", "ForeignObject.foreign_related_fields"),
    ("django.db.models.query_utils", "DeferredAttribute"),
    ("django.db.models.manager", "BaseManager"),
    ("django.db.models.constants", "LOOKUP_SEP"),
    ("django.db.models.sql.query", "Query.high_mark"),
    ("django.db.models.sql.query", "Query.is_sliced"),
    ("django.db.models.sql.query", "Query.clear_limits"),
    ("django.db.models.sql.query", "Query.order_by"),
    # django-filter (kit/filters.py)
    ("django_filters", "FilterSet.base_filters"),
    ("django_filters", "FilterSet.filter_queryset"),
]


@pytest.mark.parametrize(("module", "dotted"), [pytest.param(*n, id=":".join(n)) for n in NAMES])
def test_named_api_exists(module: str, dotted: str) -> None:
    resolve(module, dotted)


# (module, dotted callable, parameter names): methods the engine or the kit override, which the
# library calls positionally; their parameters must stay exactly these.
OVERRIDDEN: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "graphql.execution",
        "Executor.execute_field",
        ("self", "parent_type", "source", "field_details_list", "path", "position_context"),
    ),
    (
        "graphql.execution",
        "Executor.complete_object_value",
        (
            "self",
            "return_type",
            "field_details_list",
            "info",
            "path",
            "result",
            "position_context",
        ),
    ),
    ("graphql.execution", "Executor.execute_operation", ("self", "serially")),
    (
        "strawberry_django.optimizer",
        "DjangoOptimizerExtension.optimize",
        ("self", "qs", "info", "store"),
    ),
    (
        "strawberry_django.fields.field",
        "StrawberryDjangoConnectionExtension.resolve",
        ("self", "next_", "source", "info", "before", "after", "first", "last", "kwargs"),
    ),
    ("strawberry.extensions", "FieldExtension.map_arguments", ("self", "kwargs")),
    ("strawberry.extensions", "MaskErrors.anonymise_error", ("self", "error")),
]


@pytest.mark.parametrize(
    ("module", "dotted", "parameters"), [pytest.param(*o, id=o[1]) for o in OVERRIDDEN]
)
def test_overridden_signature_is_unchanged(
    module: str, dotted: str, parameters: tuple[str, ...]
) -> None:
    assert tuple(inspect.signature(resolve(module, dotted)).parameters) == parameters


# (module, dotted callable, positional parameters, keyword parameters) of library functions the
# engine calls: the positional ones lead in this order, the keywords are named (not swallowed by
# **kwargs, where a renamed one would pass unnoticed).
CALLED: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "graphql.execution.values",
        "get_argument_values",
        ("type_def", "node", "variable_values", "fragment_variable_values", "hide_suggestions"),
        (),
    ),
    ("graphql.execution", "Executor.collect_subfields", ("self", "return_type"), ()),
    (
        "strawberry_django.optimizer",
        "_get_model_hints",
        ("model", "schema", "object_definition"),
        ("parent_type", "info", "config"),
    ),
    ("strawberry_django.optimizer", "_get_gql_definition", ("schema", "definition"), ()),
    (
        "strawberry_django.optimizer",
        "_get_prefetch_queryset",
        ("remote_model", "schema", "field", "parent_type", "field_node"),
        ("config", "info", "related_field_id"),
    ),
    ("strawberry_django.optimizer", "optimize", ("qs", "info"), ("config", "store")),
    ("strawberry_django.optimizer", "OptimizerStore.apply", ("self", "qs"), ("info", "config")),
    (
        "strawberry_django.relay.cursor_connection",
        "apply_cursor_pagination",
        ("qs",),
        ("related_field_id", "info", "before", "after", "first", "last", "max_results"),
    ),
    (
        "strawberry_django.relay.cursor_connection",
        "OrderedCollectionCursor.from_model",
        ("model", "descriptors"),
        (),
    ),
    (
        "strawberry_django.pagination",
        "apply_window_pagination",
        ("queryset",),
        ("related_field_id", "limit"),
    ),
    (
        "strawberry_django.pagination",
        "StrawberryDjangoPagination.get_queryset",
        ("self", "queryset", "info"),
        ("_strawberry_related_field_id",),
    ),
    (
        "strawberry_django.fields.field",
        "StrawberryDjangoConnectionExtension.__init__",
        ("self",),
        ("max_results",),
    ),
    (
        "strawberry.extensions",
        "MaskErrors.__init__",
        ("self",),
        ("should_mask_error", "error_message"),
    ),
    ("django.db.models", "Prefetch.__init__", ("self", "lookup", "queryset", "to_attr"), ()),
]


@pytest.mark.parametrize(
    ("module", "dotted", "positional", "keywords"), [pytest.param(*c, id=c[1]) for c in CALLED]
)
def test_called_signature_takes_what_is_passed(
    module: str, dotted: str, positional: tuple[str, ...], keywords: tuple[str, ...]
) -> None:
    parameters = tuple(inspect.signature(resolve(module, dotted)).parameters)
    assert parameters[: len(positional)] == positional
    assert set(keywords) <= set(parameters)


def field_names(cls: type) -> set[str]:
    """The fields of a NamedTuple or dataclass, else the annotated attributes of the class."""
    if isinstance(getattr(cls, "_fields", None), tuple):
        return set(cls._fields)  # type: ignore[attr-defined]  # a NamedTuple's, checked above
    if dataclasses.is_dataclass(cls):
        return {field.name for field in dataclasses.fields(cls)}
    return {name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})}


# (module, class, fields, exact): records the engine unpacks, builds or mirrors. Exact where a new
# field matters: CollectedFields is unpacked as a 3-tuple, OptimizerConfig is mirrored field by
# field (execution.py:NestedPageOptimizer._config), OptimizerStore is copied field by field.
FIELDS: list[tuple[str, str, tuple[str, ...], bool]] = [
    (
        "graphql.execution.collect_fields",
        "CollectedFields",
        ("grouped_field_set", "new_defer_usages", "forbidden_directive_instances"),
        True,
    ),
    (
        "graphql.execution.collect_fields",
        "FieldDetails",
        ("node", "fragment_variable_values"),
        False,
    ),
    ("graphql.execution.collect_fields", "FragmentDetails", ("definition",), False),
    ("graphql.execution.values", "VariableValues", ("sources", "coerced"), True),
    (
        "graphql",
        "GraphQLResolveInfo",
        (
            "field_name",
            "field_nodes",
            "return_type",
            "parent_type",
            "path",
            "schema",
            "fragments",
            "operation",
            "variable_values",
        ),
        False,
    ),
    (
        "graphql.execution",
        "Executor",
        (
            "schema",
            "operation",
            "fragments",
            "fragment_definitions",
            "variable_values",
            "hide_suggestions",
            "middleware_manager",
            "root_value",
        ),
        False,
    ),
    ("strawberry.types", "Info", ("_raw_info", "_field"), False),
    (
        "strawberry_django.optimizer",
        "OptimizerConfig",
        (
            "enable_only",
            "enable_select_related",
            "enable_prefetch_related",
            "enable_annotate",
            "enable_nested_relations_prefetch",
            "prefetch_custom_queryset",
        ),
        True,
    ),
    (
        "strawberry_django.optimizer",
        "OptimizerStore",
        ("only", "select_related", "prefetch_related", "annotate"),
        True,
    ),
    (
        "strawberry_django.queryset",
        "StrawberryDjangoQuerySetConfig",
        ("optimized", "optimized_by_prefetching", "ordering_descriptors"),
        False,
    ),
    (
        "strawberry_django.relay.cursor_connection",
        "DjangoCursorConnection",
        ("edges", "page_info", "total_count_qs"),
        False,
    ),
    ("strawberry_django.type", "StrawberryDjangoDefinition", ("model", "store"), False),
]


@pytest.mark.parametrize(
    ("module", "name", "fields", "exact"), [pytest.param(*f, id=f[1]) for f in FIELDS]
)
def test_record_has_the_fields_used(
    module: str, name: str, fields: tuple[str, ...], exact: bool
) -> None:
    found = field_names(resolve(module, name))
    if exact:
        assert found == set(fields)
    else:
        assert set(fields) <= found


# (module, dotted object or "" for the module, text): behaviour the engine relies on, as a line
# of the library's source. A failure means: read that code again in the new version.
SOURCE_MENTIONS: list[tuple[str, str, str]] = [
    # graphql-core reads a field's resolver at each call (apply_shortcuts replaces it).
    ("graphql.execution", "Executor.execute_field", "field_def.resolve or self.field_resolver"),
    # Subscription events run execute_operation on a per-event executor (kit/live.py).
    ("graphql.execution.execute", "execute_subscription_event", "executor.execute_operation("),
    # Strawberry reads extensions and the executor class per request (install).
    ("strawberry.schema.schema", "Schema.get_extensions", "for ext in self.extensions"),
    ("strawberry.schema.schema", "Schema.execute_sync", "self.execution_context_class"),
    ("strawberry.schema.schema", "Schema._get_middleware_manager", "_implements_resolve()"),
    (
        "strawberry.schema.schema",
        "StrawberryGraphQLCoreExecutionContext.build_resolve_info",
        "self.variable_values.coerced",
    ),
    ("strawberry.schema.schema", "Schema.__init__", "._strawberry_schema = self"),
    # Class-only is_type_of (plans.py:CLASS_BASED_IS_TYPE_OF).
    ("strawberry.schema.schema_converter", "GraphQLCoreConverter.from_object", "def is_type_of("),
    ("strawberry_django.type", "", "def is_type_of(virtual_cls, obj, info)"),
    # Field extensions are applied at conversion; map_arguments runs first (kit/cursors.py).
    ("strawberry.schema.schema_converter", "", "extension.apply(field)"),
    ("strawberry.schema.schema_converter", "", "extension.map_arguments(kwargs)"),
    # The optimizer is reached through the instance on_execute registers.
    ("strawberry_django.fields.field", "StrawberryDjangoField.get_queryset", "ext.optimize("),
    ("strawberry_django.optimizer", "DjangoOptimizerExtension.on_execute", "optimizer.set(self)"),
    # Its resolve hook only touches querysets and managers (COLUMN_BLIND_EXTENSIONS).
    (
        "strawberry_django.optimizer",
        "DjangoOptimizerExtension.resolve",
        "isinstance(ret, QuerySet)",
    ),
    # The default nested-connection resolver is marked (prefetched_connection_of).
    (
        "strawberry_django.fields.field",
        "StrawberryDjangoConnectionExtension.apply",
        "default_resolver.can_optimize = True",
    ),
    # A field with prefetch hints of its own is left alone; callable hints get the Info.
    (
        "schema.engine.hint_cache",
        "_library_relation_hints",  # the library's (the engine puts its own in the module)
        "if field_store and field_store.prefetch_related:",
    ),
    ("strawberry_django.optimizer", "OptimizerStore.with_resolved_callables", "p(info)"),
    # hint_cache.py:_relation_hints_noted: the relation's store enters `cache` just before its
    # lookup is built from `_get_prefetch_queryset`, and both callers find the function by name.
    (
        "schema.engine.hint_cache",
        "_library_relation_hints",
        "cache.setdefault(remote_model, []).append((level, field_store))",
    ),
    (
        "schema.engine.hint_cache",
        "_library_relation_hints",
        "field_qs = field_store.apply(base_qs, info=field_info, config=config)",
    ),
    ("schema.engine.hint_cache", "_library_relation_hints", "base_qs = _get_prefetch_queryset("),
    (
        "strawberry_django.optimizer",
        "_get_hints_from_django_field",
        "store = _get_hints_from_django_relation(",
    ),
    (
        "strawberry_django.optimizer",
        "_get_hints_from_django_foreign_key",
        "store = _get_hints_from_django_relation(",
    ),
    # Window annotations emulated by execution.py:window and nested_pages.py:_whole_pages.
    (
        "strawberry_django.relay.cursor_connection",
        "apply_cursor_pagination",
        "_strawberry_row_number_fwd",
    ),
    ("strawberry_django.pagination", "apply_window_pagination", f"{nested_pages.ROW_NUMBER}="),
    ("strawberry_django.pagination", "apply_window_pagination", f"{nested_pages.TOTAL_COUNT}="),
    ("strawberry_django.pagination", "get_cached_total_count", nested_pages.TOTAL_COUNT),
    ("strawberry_django.pagination", "_resolve_limit", '"PAGINATION_DEFAULT_LIMIT"'),
    # Client input refused with ValueError in these frames (kit/extensions.py).
    ("strawberry.relay.utils", "from_base64", "raise ValueError"),
    ("strawberry.relay.utils", "SliceMetadata.from_arguments", "raise ValueError"),
    ("strawberry_django.relay.cursor_connection", "apply_cursor_pagination", "raise ValueError"),
    (
        "strawberry_django.relay.cursor_connection",
        "OrderedCollectionCursor.from_cursor",
        "raise ValueError",
    ),
    # Messages turned into codes (kit/extensions.py:_LIMIT_MESSAGES, _code_for).
    ("graphql.language.parser", "", "more than {max_tokens} tokens"),
    ("graphql.error.syntax_error", "", 'f"Syntax Error: {description}"'),
    # Django: evaluation goes through _iterable_class and stops at _prefetch_done; the reverse
    # foreign-key prefetch cache key.
    ("django.db.models.query", "QuerySet._fetch_all", "self._iterable_class(self)"),
    ("django.db.models.query", "QuerySet._fetch_all", "not self._prefetch_done"),
    (
        "django.db.models.fields.related_descriptors",
        "create_reverse_many_to_one_manager",
        "cache_name = self.field.remote_field.cache_name",
    ),
    # rows.py:ModelRows is ModelIterable.__iter__ with from_db replaced, less the related objects
    # it leaves to Django; a row of a plain model is its _state and its loaded columns.
    ("django.db.models.query", "ModelIterable.__iter__", "obj = model_cls.from_db("),
    ("django.db.models.query", "ModelIterable.__iter__", "rel_populator.populate(row, obj)"),
    ("django.db.models.query", "ModelIterable.__iter__", "setattr(obj, attr_name, row[col_pos])"),
    ("django.db.models.query", "ModelIterable.__iter__", "queryset._known_related_objects.items()"),
    ("django.db.models.base", "Model.from_db", "new._state.adding = False"),
    ("django.db.models.base", "Model.from_db", "new._state.db = db"),
    (
        "django.db.models.base",
        "Model.__init__",
        "pre_init.send(sender=cls, args=args, kwargs=kwargs)",
    ),
    ("django.db.models.base", "Model.__init__", "self._state = ModelState()"),
    ("django.db.models.base", "Model.__init__", "_setattr(self, field.attname, val)"),
    ("django.db.models.base", "Model.__init__", "post_init.send(sender=cls, instance=self)"),
]


@pytest.mark.parametrize(
    ("module", "dotted", "text"),
    [pytest.param(*s, id=f"{s[0]}:{s[1]}:{s[2]}") for s in SOURCE_MENTIONS],
)
def test_relied_upon_source_is_still_there(module: str, dotted: str, text: str) -> None:
    assert text in inspect.getsource(resolve(module, dotted))


def test_the_noted_relation_hints_take_the_librarys_parameters() -> None:
    """hint_cache.py puts `_relation_hints_noted` where the library's walk calls
    `_get_hints_from_django_relation`: it must take what the library's function takes."""
    from schema.engine import hint_cache

    library = inspect.signature(hint_cache._library_relation_hints).parameters
    noted = inspect.signature(hint_cache._relation_hints_noted).parameters
    assert [(p.name, p.kind) for p in library.values()] == [
        (p.name, p.kind) for p in noted.values()
    ]


def test_the_engines_class_based_is_type_of_modules_exist() -> None:
    for module in plans.CLASS_BASED_IS_TYPE_OF:
        assert "def is_type_of(" in inspect.getsource(importlib.import_module(module))


# --- (b) behaviour of built objects -----------------------------------------------------------


@strawberry.type
class Thing:
    name: str


calls: ContextVar[list[str] | None] = ContextVar("compatibility_calls", default=None)


def note(call: str) -> None:
    """Record a call the test watches for (nothing outside the test)."""
    seen = calls.get()
    if seen is not None:
        seen.append(call)


@strawberry.type
class Query:
    @strawberry.field
    def thing(self, info: strawberry.Info) -> Thing:
        raw = info._raw_info
        note(f"info:{raw.field_name}:{type(info._field).__name__}")
        note(f"variables:{sorted(get_variable_values(raw))}")
        note(f"replace:{raw._replace(field_name='other').field_name}")
        return Thing(name="a")


class Counted(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        note("extension")
        yield


class Resolving(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


def test_a_built_strawberry_schema_is_what_install_expects() -> None:
    schema = strawberry.Schema(query=Query)
    graphql_schema = schema._schema
    assert isinstance(graphql_schema, GraphQLSchema)
    assert graphql_schema._strawberry_schema is schema  # type: ignore[attr-defined]  # Strawberry's back-reference, set at run time
    assert isinstance(schema.extensions, tuple)
    assert issubclass(schema.execution_context_class, StrawberryGraphQLCoreExecutionContext)
    assert issubclass(schema.execution_context_class, Executor)

    backref = GraphQLCoreConverter.DEFINITION_BACKREF
    query_type = graphql_schema.type_map["Query"]
    assert isinstance(query_type, GraphQLObjectType)
    assert query_type.extensions[backref].origin is Query
    field = query_type.fields["thing"]
    assert isinstance(field.extensions, dict)
    assert isinstance(field.extensions[backref], StrawberryField)
    assert isinstance(graphql_schema.extensions, dict)


def test_the_executor_class_and_extensions_set_after_build_are_used() -> None:
    schema = strawberry.Schema(query=Query)
    base = schema.execution_context_class

    class Spy(base):  # type: ignore[misc, valid-type]  # the executor class is a runtime value
        def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
            names = [type(m).__name__ for m in self.middleware_manager.middlewares]
            note(f"middlewares:{names}")
            return super().execute_operation(*args, **kwargs)

        def execute_field(self, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
            note(f"field:{details[0].node.name.value}")
            return super().execute_field(parent_type, source, details, *rest)

        def complete_object_value(self, return_type: Any, *rest: Any) -> Any:
            note(f"object:{return_type.name}")
            return super().complete_object_value(return_type, *rest)

    schema.execution_context_class = Spy
    schema.extensions = (*schema.extensions, Counted, Resolving)
    seen: list[str] = []
    token = calls.set(seen)
    try:
        result = schema.execute_sync("{ thing { name } }")
    finally:
        calls.reset(token)

    assert result.errors is None
    assert result.data == {"thing": {"name": "a"}}
    assert seen == [
        "extension",
        "middlewares:['Resolving']",  # only extensions with a resolve hook wrap resolvers
        "field:thing",
        "info:thing:StrawberryField",
        "variables:[]",
        "replace:other",
        "object:Thing",
        "field:name",
    ]


def test_graphql_core_objects_the_engine_reads() -> None:
    assert GraphQLString.coerce_output_value("a") == "a"
    enum = GraphQLEnumType("Colour", {"RED": "red"})
    assert enum.coerce_output_value("red") == "RED"
    assert MiddlewareManager(object()).middlewares


def test_strawberry_resolvers_and_fields_the_engine_reads() -> None:
    def resolver(root: Any, info: strawberry.Info) -> int:
        return 1

    wrapped = StrawberryResolver(resolver)
    assert wrapped.wrapped_func is resolver
    assert wrapped.root_parameter is not None
    assert wrapped.info_parameter is not None
    assert wrapped.self_parameter is None
    assert wrapped.parent_parameter is None

    field = StrawberryDjangoField()
    for name in ("base_resolver", "extensions", "permission_classes", "directives", "python_name"):
        assert hasattr(field, name), name
    for name in ("django_name", "store", "is_list", "is_connection", "is_paginated", "is_async"):
        assert hasattr(field, name), name
    assert hasattr(field.store, "prefetch_related")
    assert StrawberryDjangoConnectionExtension(max_results=3).max_results == 3


def test_strawberry_django_objects_the_engine_reads() -> None:
    optimizer = DjangoOptimizerExtension()
    for name in (
        "enable_only",
        "enable_select_related",
        "enable_prefetch_related",
        "enable_annotate_optimization",
        "prefetch_custom_queryset",
    ):
        assert hasattr(optimizer, name), name
    assert isinstance(DjangoOptimizerExtension.enabled, ContextVar)
    settings = strawberry_django_settings()
    assert "PAGINATION_DEFAULT_LIMIT" in settings
    assert "PAGINATION_MAX_LIMIT" in settings
    queryset = Group.objects.all()
    config = get_queryset_config(queryset)
    assert config.ordering_descriptors is None
    assert config.optimized is False
    assert config.optimized_by_prefetching is False
    # Kept across clones (strawberry-django patches QuerySet._clone): pages are told apart by it.
    config.optimized_by_prefetching = True
    assert get_queryset_config(queryset.filter(name="x")).optimized_by_prefetching


def test_django_querysets_the_engine_reads_and_sets() -> None:
    queryset = Group.objects.all()
    assert queryset._result_cache is None
    assert queryset._prefetch_related_lookups == ()  # type: ignore[attr-defined]  # Django's private prefetch state
    assert queryset._prefetch_done is False  # type: ignore[attr-defined]  # Django's private prefetch state
    assert queryset._iterable_class is ModelIterable
    assert ModelIterable(queryset).queryset is queryset
    lookups = queryset.prefetch_related("permissions")._prefetch_related_lookups  # type: ignore[attr-defined]  # Django's private prefetch state
    assert lookups == ("permissions",)
    assert queryset.query.high_mark is None
    sliced = queryset[:5]
    assert sliced.query.is_sliced
    assert sliced.query.high_mark == 5
    sliced.query.clear_limits()
    assert not sliced.query.is_sliced
    assert tuple(queryset.order_by("name").query.order_by) == ("name",)
    assert Group._base_manager.model is Group

    marked = queryset.all()
    marked.__class__ = type("Marked", (QuerySet,), {})
    assert type(marked.filter(name="x")[:3]) is marked.__class__

    prefetch = Prefetch("permissions")
    assert (prefetch.prefetch_through, prefetch.to_attr, prefetch.queryset) == (
        "permissions",
        None,
        None,
    )


def test_django_model_rows_and_descriptors_the_engine_reads() -> None:
    # Typed by django-stubs as its own descriptor class: what the engine sees is Django's.
    descriptor: object = Group.name
    assert type(descriptor) is DeferredAttribute
    assert Group.name.field.attname == "name"
    assert Group(name="x").__dict__["name"] == "x"

    link = Permission._meta.get_field("content_type")
    assert [f.attname for f in link.local_related_fields] == ["content_type_id"]
    assert [f.attname for f in link.foreign_related_fields] == ["id"]

    reverse_fk = ContentType.permission_set
    assert isinstance(reverse_fk, ReverseManyToOneDescriptor)
    assert not isinstance(reverse_fk, ManyToManyDescriptor)
    assert prefetch_cache_name(ContentType, "permission_set") == reverse_fk.rel.cache_name
    manager = ContentType(pk=1).permission_set
    assert hasattr(manager, "_apply_rel_filters")
    assert hasattr(manager, "get_prefetch_querysets")


@pytest.mark.parametrize(
    ("model", "relation", "other"),
    [(Group, "permissions", Permission), (Permission, "group_set", Group)],
    ids=["forward", "reverse"],
)
def test_django_many_to_many_managers_the_engine_reads(
    model: Any, relation: str, other: Any
) -> None:
    descriptor = getattr(model, relation)
    assert isinstance(descriptor, ManyToManyDescriptor)
    assert descriptor.reverse is (relation == "group_set")
    parent = model(pk=1)
    manager = getattr(parent, relation)
    # The engine works out the key of Django's prefetch cache on its own.
    assert prefetch_cache_name(model, relation) == manager.prefetch_cache_name
    assert manager.through is descriptor.rel.through
    assert manager.through is not None
    link = manager.through._meta.get_field(manager.source_field_name)
    assert isinstance(link, ForeignObject)
    assert len(link.local_related_fields) == 1
    assert hasattr(manager, "_apply_rel_filters")

    answer = manager.get_prefetch_querysets([parent], [other.objects.all()])
    assert len(answer) == 6
    extra = f"_prefetch_related_val_{link.local_related_fields[0].attname}"
    assert extra in answer[0].query.extra
