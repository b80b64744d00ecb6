"""The module checks, run by `manage.py check` (so by `make lint` and CI).

Four promises of the layout (docs/ARCHITECTURE.md) that a reviewer would otherwise have to see:

- majestic.E001: no foreign key, one-to-one or many-to-many between the models of two modules;
  a module refers to another's rows by uuid or code.
- majestic.E002: every event a module emits is declared and listed in events/catalog.json.
- majestic.E003: every root field, mutation and subscription of a module's face has a permission
  (`extensions=[Require(...)]`).
- majestic.E004: a module's face imports another module only through its public places,
  `modules.<other>.api` and `modules.<other>.graphql.types`.

The modules are those of `settings.MODULES`; each message names the file and the fix.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from strawberry.types.base import get_object_definition

# What one module may import of another (also the independence contract of pyproject.toml).
PUBLIC_PLACES = ("api", "graphql.types")
ROOT_TYPES = ("Query", "Mutation", "Subscription")


def register() -> None:
    """Called from SchemaConfig.ready()."""
    checks.register(relations_stay_inside_modules, checks.Tags.models)
    checks.register(emitted_events_are_in_the_catalog, "modules")
    checks.register(root_fields_have_permissions, "modules")
    checks.register(faces_import_public_places_only, "modules")


def _base_dir() -> Path:
    return Path(settings.BASE_DIR)


def _shown(path: str | Path) -> str:
    """`path` relative to the project, as a reader would open it."""
    try:
        return str(Path(path).resolve().relative_to(_base_dir().resolve()))
    except ValueError:
        return str(path)


def _module_apps() -> dict[str, AppConfig]:
    """The app config of each module, by module name (`shipping`)."""
    return {name: apps.get_app_config(_label_of(name)) for name in settings.MODULES}


def _label_of(module: str) -> str:
    config = apps.get_containing_app_config(f"modules.{module}")
    assert config is not None, f"modules.{module} is in MODULES but not installed"
    return config.label


def _module_files(module: str) -> Iterator[Path]:
    root = _base_dir() / "modules" / module
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.relative_to(root).parts:
            yield path


# --- E001: relations stay inside their module -----------------------------------------------------


def relations_stay_inside_modules(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    errors = []
    owners = {config.label: name for name, config in _module_apps().items()}
    for module, config in _module_apps().items():
        for model in config.get_models():
            for field in model._meta.get_fields():
                if not field.is_relation or field.auto_created or field.related_model is None:
                    continue
                related = field.related_model
                other = owners.get(related._meta.app_label)
                if other is None or other == module:
                    continue
                name = related.__name__
                errors.append(
                    checks.Error(
                        f"{_shown(inspect.getfile(model))}: {model.__name__}.{field.name} is a "
                        f"{type(field).__name__} to {other}'s {name}; a module's tables may not "
                        "point into another module's.",
                        hint=f"Keep {name}'s uuid (or code) in a plain field, e.g. "
                        f"`{field.name}_uuid = models.UUIDField(db_index=True)`, and read it "
                        f"through modules.{other}.api.",
                        obj=model,
                        id="majestic.E001",
                    )
                )
    return errors


# --- E002: emitted events are in the catalog ------------------------------------------------------


def _emitted_event_names(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(class name, line) of each `emit(SomeEvent(...))` or `events.emit(SomeEvent(...))`."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        callee = node.func
        called = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", None)
        argument = node.args[0]
        if called == "emit" and isinstance(argument, ast.Call):
            made = argument.func
            name = made.id if isinstance(made, ast.Name) else getattr(made, "attr", None)
            if name is not None:
                yield name, node.lineno


def _contract(entry: dict[str, Any]) -> dict[str, Any]:
    """A catalog entry without its source, whose prefix is a setting (EVENTS_SOURCE_PREFIX)."""
    return {key: value for key, value in entry.items() if key != "source"}


def emitted_events_are_in_the_catalog(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    from events import catalog

    errors = []
    committed = {e["detailType"]: _contract(e) for e in catalog.committed_catalog()["events"]}
    current = {e["detailType"]: _contract(e) for e in catalog.catalog_document()["events"]}
    for name, entry in current.items():
        if committed.get(name) != entry:
            declared = catalog.discover()[name]
            state = "is not listed in" if name not in committed else "differs from its entry in"
            errors.append(
                checks.Error(
                    f"{_shown(inspect.getfile(declared))}: event {name} {state} "
                    "events/catalog.json.",
                    hint="Run `make catalog` (manage.py export_event_catalog) and commit "
                    "events/catalog.json.",
                    id="majestic.E002",
                )
            )
    for module in settings.MODULES:
        for path in _module_files(module):
            for name, line in _emitted_event_names(ast.parse(path.read_text(), str(path))):
                if name in committed or name in current:
                    continue
                errors.append(
                    checks.Error(
                        f"{_shown(path)}:{line}: emits {name}, which no module declares and "
                        "events/catalog.json does not list.",
                        hint=f"Declare {name} in modules/{module}/events.py (a frozen dataclass "
                        "subclassing events.Event, with `module` set) and run `make catalog`.",
                        id="majestic.E002",
                    )
                )
    return errors


# --- E003: root fields have permissions -----------------------------------------------------------


def _where(root_type: type, field: Any) -> str:
    resolver = getattr(field.base_resolver, "wrapped_func", None)
    target = resolver if resolver is not None else root_type
    try:
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        line = 0
    location = _shown(inspect.getfile(target))
    return f"{location}:{line}" if line else location


def root_fields_have_permissions(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    from schema.kit.permissions import Require
    from schema.root import module_faces

    errors = []
    for face in module_faces():
        for kind in ROOT_TYPES:
            root_type = getattr(face, kind, None)
            if root_type is None:
                continue
            for field in get_object_definition(root_type, strict=True).fields:
                if any(isinstance(extension, Require) for extension in field.extensions):
                    continue
                errors.append(
                    checks.Error(
                        f"{_where(root_type, field)}: {kind}.{field.python_name} "
                        f"({face.__name__}) has no permission.",
                        hint="Declare who may call it next to the field: "
                        "`extensions=[Require(Staff)]` (or SignedIn, ApiKey(...), Anyone for a "
                        "public field; schema/kit/permissions.py), and test who may not.",
                        obj=root_type,
                        id="majestic.E003",
                    )
                )
    return errors


# --- E004: faces import other modules through their public places only ---------------------------


def _imported_names(tree: ast.AST, package: str) -> Iterator[tuple[str, int]]:
    """Every dotted name an import statement may load (function-level and TYPE_CHECKING too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                parent = f"{base}.{node.module}" if node.module else base
            else:
                parent = node.module or ""
            for alias in node.names:
                # `from modules.x import api` loads modules.x.api; `from modules.x.api import f`
                # loads modules.x.api (f is a name in it): both start with the module that counts.
                yield f"{parent}.{alias.name}", node.lineno


def _is_public(dotted: str, other: str) -> bool:
    return any(
        dotted == f"modules.{other}.{place}" or dotted.startswith(f"modules.{other}.{place}.")
        for place in PUBLIC_PLACES
    )


def faces_import_public_places_only(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    errors = []
    modules = set(settings.MODULES)
    for module in settings.MODULES:
        face = _base_dir() / "modules" / module / "graphql"
        for path in sorted(face.rglob("*.py")):
            package = ".".join(path.relative_to(_base_dir()).with_suffix("").parts[:-1])
            for dotted, line in _imported_names(ast.parse(path.read_text(), str(path)), package):
                parts = dotted.split(".")
                if len(parts) < 3 or parts[0] != "modules" or parts[1] == module:
                    continue
                other = parts[1]
                if other not in modules or _is_public(dotted, other):
                    continue
                errors.append(
                    checks.Error(
                        f"{_shown(path)}:{line}: imports {'.'.join(parts[:3])} of the {other} "
                        "module; a face uses another module only through its public places.",
                        hint=f"Import from modules.{other}.graphql.types (its types and loaders) "
                        f"or modules.{other}.api (plain data); if what you need is not there, "
                        f"export it there.",
                        id="majestic.E004",
                    )
                )
    return errors
