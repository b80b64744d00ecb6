"""The schema as a contract: committed SDL, permissions on every root field, error codes."""

from enum import Enum
from pathlib import Path
from typing import cast

import pytest
import strawberry
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from strawberry.types.base import get_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

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
        definition = get_object_definition(root, strict=True)
        for field in definition.fields:
            yield definition.name, field


@pytest.mark.parametrize(
    "root_name,field", list(root_fields()), ids=lambda v: getattr(v, "name", v)
)
def test_every_root_field_declares_a_permission(root_name, field):
    assert any(isinstance(ext, Require) for ext in field.extensions), (
        f"{root_name}.{field.name} has no Require(...) permission"
    )


def test_every_module_error_enum_has_the_common_codes():
    enums = [
        concrete.definition
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryEnumDefinition)
        and concrete.definition.name.endswith("ErrorCode")
    ]
    assert enums, "no <Module>ErrorCode enums in the schema"
    for enum_definition in enums:
        code_enum = cast(type[Enum], enum_definition.wrapped_cls)  # typed as its EnumMeta
        assert not missing_common_codes(code_enum), enum_definition.name


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
    # The node face, then one face for each module of MODULES, in that order.
    assert [face.__name__ for face in FACES[1:]] == [
        f"modules.{name}.graphql" for name in settings.MODULES
    ]
