"""`node(id:)`: any entity by its Relay global id.

Each type's get_queryset applies its own access rules, so `node` leaks nothing.
"""

from __future__ import annotations

from typing import Any

import strawberry
from django.core.exceptions import ValidationError
from strawberry import relay
from strawberry.extensions import FieldExtension

from schema.input_text import NUL
from schema.permissions import Require, SignedIn


class MalformedKeyIsNull(FieldExtension):
    """A global id whose key part is malformed (e.g. "User:not-a-uuid") finds nothing."""

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        # The id itself is base64, so a NUL hides in its decoded key (schema/input_text.py cannot
        # see it), and PostgreSQL refuses to compare text holding one: no key of ours has one.
        if NUL in str(getattr(kwargs.get("id"), "node_id", "")):
            return None
        try:
            return next_(source, info, **kwargs)
        except (ValidationError, ValueError):
            return None


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(extensions=[Require(SignedIn), MalformedKeyIsNull()])
