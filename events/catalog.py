"""The event catalog: every event the modules declare, with the JSON schema of its `data`.

Each module declares its events as `Event` dataclasses in `modules/<m>/events.py`; the catalog
finds them through `settings.EVENT_MODULES` (dotted paths, imported at run time, so `events/`
never imports a module statically) and derives each schema from the dataclass fields' type
hints. `emit` validates data against it; `manage.py export_event_catalog` writes
`events/catalog.json`, the contract the functions and other consumers are built against.

Field types: str, int, float, bool, None, `X | None`, `list[X]`, `tuple[X, ...]`, `dict[str, X]`,
`Literal[...]`, string enums, nested dataclasses, `Any`; `Annotated[str, {"format": "uuid"}]` or
`field(metadata={"schema": {...}})` add JSON-schema keywords.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import importlib.util
import inspect
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import fastjsonschema
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator

from events.envelope import Event, camel_case

CATALOG_PATH = Path(__file__).resolve().parent / "catalog.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class InvalidEventData(Exception):
    """An event's data does not match its declared schema: a bug in the emitting service.

    Deliberately not a ValueError: the gateway masks it as an internal error instead of blaming
    the caller's input, and the message (logged) names the field without echoing its value.
    """


class UnsupportedFieldType(TypeError):
    pass


# --- JSON schema from type hints -----------------------------------------------------------------

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}


def schema_for_type(hint: Any, where: str) -> dict[str, Any]:
    """The JSON schema of values of type `hint` (`where` names the field in errors)."""
    if isinstance(hint, type) and hint in _SCALARS:
        return dict(_SCALARS[hint])
    if hint is Any:
        return {}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        schema = schema_for_type(args[0], where)
        for extra in args[1:]:
            if isinstance(extra, Mapping):
                schema.update(extra)
        return schema
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [schema_for_type(a, where) for a in args]
        simple = [
            o.get("type") for o in options if set(o) == {"type"} and isinstance(o.get("type"), str)
        ]
        if len(simple) == len(options):
            return {"type": simple}
        return {"anyOf": options}
    if origin in (list, Sequence, Iterable, set, frozenset) or (
        origin is tuple and len(args) == 2 and args[1] is Ellipsis
    ):
        item = args[0] if args else Any
        return {"type": "array", "items": schema_for_type(item, f"{where}[]")}
    if origin in (dict, Mapping):
        key_type, value_type = args if args else (str, Any)
        if key_type is not str:
            raise UnsupportedFieldType(f"{where}: JSON object keys are strings, not {key_type}.")
        return {
            "type": "object",
            "additionalProperties": schema_for_type(value_type, f"{where}{{}}"),
        }
    if inspect.isclass(hint) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if not all(isinstance(v, str | int) for v in values):
            raise UnsupportedFieldType(
                f"{where}: enum {hint.__name__} must have string or integer values."
            )
        return {"enum": values}
    if inspect.isclass(hint) and dataclasses.is_dataclass(hint):
        return object_schema(hint, where)
    raise UnsupportedFieldType(
        f"{where}: {getattr(hint, '__name__', hint)} is not JSON-native; declare it as str "
        "(uuids, datetimes, decimals travel as strings), int, float, bool, list, dict or None."
    )


def object_schema(cls: type, where: str) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        schema = schema_for_type(hints[f.name], f"{where}.{f.name}")
        schema.update(f.metadata.get("schema", {}))
        properties[camel_case(f.name)] = schema
    return {
        "type": "object",
        "properties": properties,
        # data() always carries every field, so a missing one is a bug.
        "required": list(properties),
        "additionalProperties": False,
    }


@functools.cache
def data_schema(event_class: type[Event]) -> dict[str, Any]:
    return object_schema(event_class, event_class.__name__)


@functools.cache
def _validator(event_class: type[Event]) -> Draft202012Validator:
    schema = data_schema(event_class)  # type: ignore[arg-type]  # mypy: a dataclass's class is not Hashable
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@functools.cache
def _fast_check(event_class: type[Event]) -> Callable[[Any], Any]:
    """The event's schema compiled to Python once (fastjsonschema): microseconds per emit, where
    jsonschema's validator takes about a millisecond. Formats stay annotations, as for jsonschema
    without a format checker; the keywords the catalog derives mean the same in draft 7 (what
    fastjsonschema compiles) as in 2020-12."""
    _validator(event_class)  # type: ignore[arg-type]  # checks the schema itself, once
    return fastjsonschema.compile(data_schema(event_class), use_formats=False)  # type: ignore[arg-type]


def validate_data(event_class: type[Event], data: Any) -> None:
    """Raise InvalidEventData naming the first field that does not match the declared schema.

    The compiled check answers for valid data (every emit); only data it refuses goes through
    jsonschema, whose verdict and error (the first by path) are the ones reported."""
    try:
        _fast_check(event_class)(data)  # type: ignore[arg-type]  # mypy: a dataclass's class is not Hashable
        return
    except fastjsonschema.JsonSchemaValueException:
        pass
    validator = _validator(event_class)  # type: ignore[arg-type]  # mypy: a dataclass's class is not Hashable
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
    if error is None:
        return
    location = "data" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    )
    got = type(error.instance).__name__
    # The schema's side (validator and its argument) is safe to log; the value may be a secret.
    raise InvalidEventData(
        f"{event_class.__name__}.{location} fails {error.validator!r} "
        f"(expected {error.validator_value!r}; got a {got})"
    )


# --- discovery -----------------------------------------------------------------------------------


def event_classes_in(module: types.ModuleType) -> list[type[Event]]:
    """The Event subclasses a module itself defines (not those it imports)."""
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Event)
        and obj is not Event
        and obj.__module__ == module.__name__
        and dataclasses.is_dataclass(obj)
    ]


def _import_if_present(dotted: str) -> types.ModuleType | None:
    """Import `dotted`; None when that module does not exist (an app without events)."""
    parent = dotted.rpartition(".")[0]
    if parent and importlib.util.find_spec(parent) is None:
        return None
    if importlib.util.find_spec(dotted) is None:
        return None
    return importlib.import_module(dotted)


@functools.cache
def discover() -> dict[str, type[Event]]:
    """Every declared event by detail type; two events sharing a detail type is a start-up error."""
    found: dict[str, type[Event]] = {}
    for dotted in settings.EVENT_MODULES:
        module = _import_if_present(dotted)
        if module is None:
            continue
        for event_class in event_classes_in(module):
            name = event_class.detail_type()
            if name in found and found[name] is not event_class:
                raise ImproperlyConfigured(
                    f"Event {name} is declared by both {found[name].__module__} "
                    f"and {event_class.__module__}"
                )
            if not isinstance(getattr(event_class, "module", None), str):
                raise ImproperlyConfigured(f"{event_class.__module__}.{name} sets no `module`")
            # A misspelt sensitive field would leak the real one to live subscribers: refuse it.
            unknown = set(event_class.sensitive_fields) - {
                f.name for f in dataclasses.fields(event_class)
            }
            if unknown:
                raise ImproperlyConfigured(
                    f"{event_class.__module__}.{name} marks unknown fields as sensitive: "
                    f"{', '.join(sorted(unknown))}"
                )
            found[name] = event_class
    return dict(sorted(found.items()))


def sensitive_keys(event_class: type[Event]) -> list[str]:
    """The `data` keys of the event's sensitive fields (camelCase, as they travel)."""
    return [camel_case(name) for name in event_class.sensitive_fields]


def for_live_subscribers(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as live subscribers (domainEvents) may see it: sensitive data removed.

    The declared event's sensitive keys leave `detail.data`, and `detail.redacted` names them, so
    a watcher knows the data is partial. An envelope with nothing to remove comes back as is (a
    detail type no module declares, e.g. a test's, has nothing declared sensitive). Idempotent.
    """
    event_class = discover().get(str(envelope.get("detailType", "")))
    keys = sensitive_keys(event_class) if event_class is not None else []
    detail = envelope.get("detail")
    data = detail.get("data") if isinstance(detail, dict) else None
    if not keys or not isinstance(detail, dict) or not isinstance(data, dict):
        return envelope
    redacted = {
        **detail,
        "data": {k: v for k, v in data.items() if k not in keys},
        "redacted": sorted(set(keys) | set(detail.get("redacted") or [])),
    }
    return {**envelope, "detail": redacted}


# --- the exported catalog ------------------------------------------------------------------------

DETAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["eventId", "occurredAt", "version", "correlationId", "actor", "data"],
    "properties": {
        "eventId": {"type": "string", "format": "uuid"},
        "occurredAt": {"type": "string", "format": "date-time"},
        "version": {"type": "integer", "minimum": 1},
        "correlationId": {"type": "string"},
        # Present when the emitting process traces (OTEL_TRACES_EXPORTER): the W3C trace context
        # of the span that emitted the event, which the functions continue.
        "traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        },
        "actor": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["user", "apiKey", "system", "anonymous"]},
                "uuid": {"type": "string"},
                "name": {"type": "string"},
            },
        },
        "data": {"type": "object"},
    },
}


def catalog_document(event_classes: Mapping[str, type[Event]] | None = None) -> dict[str, Any]:
    """The catalog as committed in events/catalog.json (stable order, no timestamps)."""
    event_classes = discover() if event_classes is None else event_classes
    entries = []
    for name, event_class in sorted(event_classes.items()):
        entries.append(
            {
                "detailType": name,
                "source": event_class.source(),
                "module": event_class.module,
                "version": event_class.version,
                # Personal or secret data keys: on the bus, never in the live stream.
                "sensitiveFields": sensitive_keys(event_class),
                "description": inspect.cleandoc(event_class.__doc__ or "").split("\n\n")[0]
                if event_class.__doc__ and not event_class.__doc__.startswith(f"{name}(")
                else "",
                "dataSchema": {"$schema": JSON_SCHEMA_DIALECT, **data_schema(event_class)},  # type: ignore[arg-type]  # mypy: a dataclass's class is not Hashable
            }
        )
    return {
        "sourcePrefix": settings.EVENTS_SOURCE_PREFIX,
        "envelope": {
            "description": "EventBridge entry: Source '<sourcePrefix>.<module>', "
            "DetailType the event name, Detail as below. Live subscribers (domainEvents) get the "
            "Detail without the event's sensitiveFields in data; detail.redacted then names them.",
            "detailSchema": {"$schema": JSON_SCHEMA_DIALECT, **DETAIL_SCHEMA},
        },
        "events": entries,
    }


def catalog_json(event_classes: Mapping[str, type[Event]] | None = None) -> str:
    return (
        json.dumps(catalog_document(event_classes), indent=2, sort_keys=False, ensure_ascii=False)
        + "\n"
    )


def committed_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(CATALOG_PATH.read_text())
    return catalog
