"""The schema as a contract: committed SDL, permissions on every root field, error codes."""

from pathlib import Path

import pytest
import strawberry
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from schema.kit.errors import missing_common_codes
from schema.kit.permissions import Require
from schema.management.commands.export_schema_sdl import current_sdl
from schema.root import FACES, merge_root, schema


def test_committed_sdl_matches_the_schema():
    committed = (Path(settings.BASE_DIR) / "schema.graphql").read_text()
    assert committed == current_sdl(), "schema.graphql is stale: run `make schema` and commit it"


def root_fields():
    for root in (schema.query, schema.mutation, schema.subscription):
        if root is None:
            continue
        for field in root.__strawberry_definition__.fields:
            yield root.__strawberry_definition__.name, field


@pytest.mark.parametrize(
    "root_name,field", list(root_fields()), ids=lambda v: getattr(v, "name", v)
)
def test_every_root_field_declares_a_permission(root_name, field):
    assert any(isinstance(ext, Require) for ext in field.extensions), (
        f"{root_name}.{field.name} has no Require(...) permission"
    )


def test_every_module_error_enum_has_the_common_codes():
    enums = [
        definition
        for definition in schema.schema_converter.type_map.values()
        if definition.definition.name.endswith("ErrorCode")
    ]
    assert enums, "no <Module>ErrorCode enums in the schema"
    for enum_type in enums:
        assert not missing_common_codes(enum_type.definition.wrapped_cls), enum_type.definition.name


def test_two_modules_defining_the_same_root_field_fail_at_start_up():
    @strawberry.type
    class A:
        @strawberry.field
        def ping(self) -> str:
            return "a"

    @strawberry.type
    class B:
        @strawberry.field
        def ping(self) -> str:
            return "b"

    with pytest.raises(ImproperlyConfigured, match="ping"):
        merge_root("Query", [A, B])


def test_every_module_contributes_to_the_schema():
    assert len(FACES) >= 6
