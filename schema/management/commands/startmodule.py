"""`manage.py startmodule NAME [--entity ENTITY] [--dry-run]`: a new module in the project's shape.

Writes modules/NAME/ (core, face, initial migration) and tests/NAME/ from the templates in
schema/management/module_template/ (Django templates over `.py-tpl` files, like Django's own
startapp), adds NAME to `MODULES` in config/settings.py (the one list every consumer reads), then
regenerates schema.graphql and events/catalog.json. A bad NAME or ENTITY writes nothing.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template import Context, Engine

TEMPLATES = Path(__file__).resolve().parents[1] / "module_template"
MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ENTITY_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
# Longer names would push generated docstrings and strings past the 100-column lines.
LONGEST_NAME = 20
# Top-level packages of the project: a module of that name would be confused with them.
RESERVED = {"schema", "events", "config", "modules", "request_state", "infra", "tools", "tests"}
# `MODULES = [ ... ]` in config/settings.py: the registration this command appends to.
# An item may carry a comment (`# sample`: tools/new_project.py drops the line without the sample).
MODULES_LIST = re.compile(
    r"^MODULES = \[\n(?P<items>(?:    \"[a-z0-9_]+\",(?:  #[^\n]*)?\n)*)\]\n", re.M
)


@dataclass(frozen=True)
class Names:
    """Every spelling of the module and its entity that the templates use."""

    module: str  # warehouse
    entity_class: str  # Rack

    @property
    def context(self) -> dict[str, str]:
        words = _words(self.entity_class)  # ["storage", "bin"]
        plural_words = [*words[:-1], _plural(words[-1])]
        entity, entities = "_".join(words), "_".join(plural_words)
        module_words = self.module.replace("_", " ")
        module_class = "".join(part.capitalize() for part in self.module.split("_"))
        return {
            "module": self.module,
            "module_words": module_words,
            "Module": module_class,
            "Module_words": module_words.capitalize(),
            "Entity": self.entity_class,
            "entity_model": self.entity_class.lower(),  # Django's model_name, as in admin URLs
            "ENTITY": entity.upper(),
            "entity": entity,
            "entities": entities,
            "entityCamel": _camel(words),
            "entitiesCamel": _camel(plural_words),
            "entity_words": " ".join(words),
            "entities_words": " ".join(plural_words),
            "Entity_words": " ".join(words).capitalize(),
            "Entities_words": " ".join(plural_words).capitalize(),
        }

    def graphql_names(self) -> dict[str, set[str]]:
        c = self.context
        entity, module = c["Entity"], c["Module"]
        return {
            "types": {
                entity,
                f"{entity}Filter",
                f"{entity}Order",
                f"Create{entity}Input",
                f"Update{entity}Input",
                *(f"{verb}{entity}Payload" for verb in ("Create", "Update", "Delete")),
                f"{module}Error",
                f"{module}ErrorCode",
            },
            "Query": {c["entitiesCamel"], c["entityCamel"]},
            "Mutation": {f"{verb}{entity}" for verb in ("create", "update", "delete")},
            "events": {f"{entity}{happened}" for happened in ("Created", "Updated", "Deleted")},
        }


def _words(pascal: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[0-9]+", pascal)]


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _camel(words: list[str]) -> str:
    return words[0] + "".join(w.capitalize() for w in words[1:])


@dataclass
class Plan:
    """What the command writes (new files), changes (registration) and regenerates."""

    new_files: dict[Path, str] = field(default_factory=dict)
    changed_files: dict[Path, str] = field(default_factory=dict)
    regenerated: list[Path] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Write a new module (model, services, selectors, api, events, filters, admin, GraphQL "
        "face, migration, tests), register it in settings.MODULES, and regenerate "
        "schema.graphql and events/catalog.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the module's package name under modules/, e.g. warehouse")
        parser.add_argument(
            "--entity", help="its entity's class name, e.g. Rack (default: NAME in PascalCase)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be written; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = Path(settings.BASE_DIR)
        name = str(options["name"])
        module_error = _module_name_problem(name, base)
        if module_error:
            raise CommandError(module_error)
        entity = options["entity"] or "".join(part.capitalize() for part in name.split("_"))
        entity_error = _entity_name_problem(entity)
        if entity_error:
            raise CommandError(entity_error)
        names = Names(module=name, entity_class=entity)
        clash = _clash_with_the_schema(names)
        if clash:
            raise CommandError(clash)
        plan = _plan(names, base)
        if options["dry_run"]:
            self._print_plan(plan, base)
            self.stdout.write("Dry run: nothing was written.")
            return
        _write(plan, names, base)
        self._print_plan(plan, base)
        self.stdout.write(
            self.style.SUCCESS(f"Module {name} is registered. Next: make lint && make test.")
        )

    def _print_plan(self, plan: Plan, base: Path) -> None:
        for heading, paths in (
            ("write", sorted(plan.new_files)),
            ("change", sorted(plan.changed_files)),
            ("regenerate", plan.regenerated),
        ):
            for path in paths:
                self.stdout.write(f"{heading:<10} {path.relative_to(base)}")


def _module_name_problem(name: str, base: Path) -> str | None:
    if not MODULE_NAME.match(name):
        return (
            f"{name!r} is not a module name: use a lower-case Python identifier "
            "(letters, digits and underscores, starting with a letter), e.g. warehouse."
        )
    if len(name) > LONGEST_NAME:
        return f"{name!r} is longer than {LONGEST_NAME} characters: choose a shorter module name."
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword: a package cannot be called that."
    if name in RESERVED:
        return f"{name!r} is a top-level package of the project: choose another module name."
    if name in settings.MODULES or (base / "modules" / name).exists():
        return f"modules/{name} exists already: choose another module name."
    if (base / "tests" / name).exists():
        # tests/live, tests/e2e, ...: the module's tests would land among others (and a failed
        # run would take them away with its own).
        return f"tests/{name} exists already: choose another module name."
    taken = {config.label for config in apps.get_app_configs()} | {
        config.name.rpartition(".")[2] for config in apps.get_app_configs()
    }
    if name in taken:
        return f"{name!r} is the label of an installed Django app: choose another module name."
    return None


def _entity_name_problem(entity: str) -> str | None:
    if not ENTITY_NAME.match(entity) or keyword.iskeyword(entity):
        return (
            f"{entity!r} is not an entity name: use a class name in PascalCase "
            "(letters and digits, starting with an upper-case letter), e.g. Rack."
        )
    if len(entity) > LONGEST_NAME:
        return f"{entity!r} is longer than {LONGEST_NAME} characters: choose a shorter entity name."
    snake = "_".join(_words(entity))
    if keyword.iskeyword(snake):
        return f"{entity!r} would name its functions {snake!r}, a Python keyword: choose another."
    return None


def _clash_with_the_schema(names: Names) -> str | None:
    """A name the new module would define that the schema or the catalog has already."""
    from events.catalog import discover
    from schema.root import schema

    wanted = names.graphql_names()
    graphql = schema._schema
    existing = {
        "types": set(graphql.type_map),
        "Query": set(graphql.query_type.fields) if graphql.query_type else set(),
        "Mutation": set(graphql.mutation_type.fields) if graphql.mutation_type else set(),
        "events": set(discover()),
    }
    for kind, taken in existing.items():
        both = sorted(wanted[kind] & taken)
        if both:
            what = {"types": "GraphQL types", "events": "events"}.get(kind, f"{kind} fields")
            return (
                f"The schema has {what} {', '.join(both)} already: choose another --entity "
                "(or module name)."
            )
    return None


def _render(template: Path, context: dict[str, str]) -> str:
    engine = Engine(autoescape=False)  # code, not HTML
    return engine.from_string(template.read_text()).render(Context(context))


def _plan(names: Names, base: Path) -> Plan:
    context = names.context
    plan = Plan()
    targets = {"module": f"modules/{names.module}", "tests": f"tests/{names.module}"}
    for source, target in targets.items():
        root = TEMPLATES / source
        for template in sorted(root.rglob("*.py-tpl")):
            relative = template.relative_to(root).with_suffix(".py")
            relative = relative.with_name(relative.name.replace("entities", context["entities"]))
            plan.new_files[base / target / relative] = _render(template, context)
    settings_path = base / "config" / "settings.py"
    text = settings_path.read_text()
    found = MODULES_LIST.search(text)
    if found is None:
        raise CommandError(
            "config/settings.py has no `MODULES = [...]` list of one quoted name a line: "
            "add the module there by hand, or restore the list."
        )
    items = f'{found["items"]}    "{names.module}",\n'
    plan.changed_files[settings_path] = (
        text[: found.start("items")] + items + text[found.end("items") :]
    )
    plan.regenerated = [
        base / "modules" / names.module / "migrations" / "0001_initial.py",
        base / "schema.graphql",
        base / "events" / "catalog.json",
    ]
    return plan


def _write(plan: Plan, names: Names, base: Path) -> None:
    """Write everything, or (when a later step fails) take it all back."""
    originals = {path: path.read_bytes() for path in (*plan.changed_files, *plan.regenerated[1:])}
    try:
        for path, content in plan.new_files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        for path, content in plan.changed_files.items():
            path.write_text(content)
        _format(list(plan.new_files))
        # A new process: this one's settings, app registry and schema predate the module.
        _run(
            base,
            "from django.core.management import call_command\n"
            f"call_command('makemigrations', {names.module!r}, verbosity=0)\n"
            "call_command('export_schema_sdl', verbosity=0)\n"
            "call_command('export_event_catalog', verbosity=0)\n",
        )
    except BaseException:
        for directory in (base / "modules" / names.module, base / "tests" / names.module):
            shutil.rmtree(directory, ignore_errors=True)
        for path, original in originals.items():
            path.write_bytes(original)
        raise


def _format(paths: list[Path]) -> None:
    """Lay the generated code out as ruff lays out the hand-written code (when ruff is here)."""
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        files = [str(path) for path in paths]
        # Imports sorted (their order depends on the module's name), then laid out.
        for step in (["check", "--select", "I", "--fix"], ["format"]):
            subprocess.run(  # noqa: S603 - our own ruff, our own files
                [str(ruff), *step, "--quiet", *files], check=True, timeout=60
            )


def _run(base: Path, code: str) -> None:
    script = f"import django\ndjango.setup()\n{code}"
    result = subprocess.run(  # noqa: S603 - this interpreter, this project
        [sys.executable, "-c", script],
        cwd=base,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise CommandError(
            "The new module does not load; nothing was kept. Its error:\n"
            + (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        )
