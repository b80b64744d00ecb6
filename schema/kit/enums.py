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

from enum import Enum, StrEnum

import strawberry


def graphql_enum(
    values: type[Enum], *, name: str | None = None, description: str | None = None
) -> type[StrEnum]:
    members = [(member.name, member.value) for member in values]
    twin: type[StrEnum] = StrEnum(name or values.__name__, members)  # type: ignore[misc]  # mypy wants a literal name
    twin.__module__ = values.__module__
    return strawberry.enum(twin, name=name or values.__name__, description=description)
