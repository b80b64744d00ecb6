"""GraphQL enums made from the domain's own enums: model choices and error codes, never rewritten.

`graphql_enum(ShippingItemStatus, description=...)` gives the GraphQL twin of a `TextChoices` or a
`StrEnum`: the same member names and values, in a class of its own, so that the domain's enum stays
free of Strawberry (strawberry.enum decorates the class it is given). Values pass both ways: a
resolver may return the domain member or its plain string; an argument arrives as the twin's
member, equal to the domain's value (both are `str`).

A type checker cannot see a class built at run time: a face declares each twin under
`if TYPE_CHECKING:` as `StrEnum` and builds it in the `else` branch (filter_input and order_input
inputs likewise, as `Any`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum

import strawberry

# What the codes every module's error enum has (schema.kit.errors.ErrorCode) mean.
COMMON_CODE_DESCRIPTIONS = {
    "INVALID": "The input is not acceptable; `field` and `message` say why.",
    "NOT_FOUND": "Nothing with that identifier, or nothing the caller may see.",
    "FORBIDDEN": "Signed in, but not allowed to do this.",
    "UNAUTHENTICATED": "Sign in first.",
}


def graphql_enum(
    values: type[Enum],
    *,
    name: str | None = None,
    description: str | None = None,
    value_descriptions: Mapping[str, str] | None = None,
) -> type[StrEnum]:
    """The twin; each value described by `value_descriptions` (by member name), else by the
    common error codes' meaning, else by a `TextChoices` member's label."""
    members = [(member.name, member.value) for member in values]
    twin: type[StrEnum] = StrEnum(name or values.__name__, members)  # type: ignore[misc]  # mypy wants a literal name
    twin.__module__ = values.__module__
    enum = strawberry.enum(twin, name=name or values.__name__, description=description)
    known = {**COMMON_CODE_DESCRIPTIONS, **(value_descriptions or {})}
    # Strawberry takes value descriptions only from strawberry.enum_value members, which a `str`
    # enum cannot hold: set them on its definition (`__strawberry_definition__`, Strawberry's own
    # attribute), which the schema reads when it is built.
    for value in enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        member = values[value.name]
        value.description = known.get(value.name) or getattr(member, "label", None) or None
    return enum
