"""`node(id:)`: any entity by its Relay global id, and the `id` field every node type has.

Each type's get_queryset applies its own access rules, so `node` leaks nothing.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from django.core.exceptions import FieldDoesNotExist, ValidationError
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry_django.optimizer import OptimizerStore
from strawberry_django.utils.typing import get_django_definition

from schema.kit.input_text import refusal_of
from schema.kit.permissions import Require, SignedIn


class MalformedKeyIsNull(FieldExtension):
    """A global id that cannot name a node finds nothing: its type name is no Node type, or its key
    does not parse as the type's key (e.g. "User:not-a-uuid").

    Only that parsing is checked, before the lookup runs; an error in the lookup itself is a bug
    and surfaces as one (a masked INTERNAL_SERVER_ERROR), never as a quiet null. (A base64 that is
    no global id at all is refused earlier, as the client's input error.)
    """

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        if _names_no_node(kwargs.get("id"), info):
            return None
        return next_(source, info, **kwargs)


def _names_no_node(global_id: Any, info: Any) -> bool:
    if not isinstance(global_id, relay.GlobalID):
        return False
    # The id itself is base64, so refused text (a NUL, which PostgreSQL cannot compare, or a lone
    # surrogate) hides in its decoded key where schema/input_text.py cannot see it.
    if refusal_of(global_id.node_id) is not None:
        return True
    try:
        node_type = global_id.resolve_type(info)
    except relay.GlobalIDValueError:  # no such type, or one that is no Node
        return True
    definition = get_django_definition(node_type)
    if definition is None:
        return False
    id_attr = node_type.resolve_id_attr()
    meta = definition.model._meta
    try:
        key_field = meta.pk if id_attr == "pk" else meta.get_field(id_attr)
    except FieldDoesNotExist:
        return False
    try:
        key_field.to_python(global_id.node_id)  # e.g. UUIDField: uuid.UUID(...)
    except ValidationError:
        return True
    return False


def load_node_keys(schema: strawberry.Schema) -> int:
    """Make every Django node type's `id` load the column its global id is made of.

    strawberry-django's optimizer reads `id` as the primary key, while our ids wrap `uuid` (or a
    tracking number): that column was deferred, and read back one row at a time. Each type's `id`
    field gets the optimizer hint `only=[its key]`, here, for every type at once. Returns how
    many types needed it.
    """
    hinted = 0
    for concrete in schema.schema_converter.type_map.values():
        origin: Any = getattr(concrete.definition, "origin", None)
        definition = get_django_definition(origin) if isinstance(origin, type) else None
        if definition is None or not issubclass(origin, relay.Node):
            continue
        id_attr = origin.resolve_id_attr()
        meta = definition.model._meta
        if id_attr == "pk" or meta.pk is None or id_attr == meta.pk.name:
            continue
        fields = cast(StrawberryObjectDefinition, concrete.definition).fields  # a Django type's
        id_field = next(f for f in fields if f.python_name == "_id")
        id_field.store = OptimizerStore.with_hints(only=[id_attr])  # type: ignore[attr-defined]  # read off any field by the optimizer
        hinted += 1
    return hinted


@strawberry.type
class Query:
    # The last extension listed runs first: the caller is checked before the id is looked at.
    node: relay.Node | None = relay.node(
        extensions=[MalformedKeyIsNull(), Require(SignedIn)],
        description="Any entity by its global `id`, if the caller may see it; else null.",
    )
