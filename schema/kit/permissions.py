"""Declarative permissions: `extensions=[Require(Staff)]` next to a field or mutation.

A denied mutation answers with its payload's typed error (UNAUTHENTICATED or FORBIDDEN);
a denied query field raises a GraphQL error with the same code in `extensions.code`.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension

from schema.kit.context import Caller
from schema.kit.errors import ErrorCode, payload_class_of, payload_with_error


class Permission:
    """A rule over the caller (`info.context.principal`); compose with `|`."""

    description = "permission"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        raise NotImplementedError

    def __or__(self, other: Permission) -> Permission:
        return AnyOf(self, other)


class AnyOf(Permission):
    def __init__(self, *rules: Permission) -> None:
        self.rules = rules
        self.description = " or ".join(rule.description for rule in rules)

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return any(rule.allows(principal, **kwargs) for rule in self.rules)


class _Anyone(Permission):
    description = "anyone"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return True


class _SignedIn(Permission):
    description = "a signed-in user"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return principal.is_user


class _Staff(Permission):
    description = "staff"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return principal.is_staff


class _Driver(Permission):
    description = "a driver"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return principal.is_driver


class _Superuser(Permission):
    description = "a superuser"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return principal.is_superuser


class ApiKey(Permission):
    """A machine client whose API key carries `scope`."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.description = f"an API key with {scope}"

    def allows(self, principal: Caller, **kwargs: Any) -> bool:
        return principal.has_scope(self.scope)


Anyone = _Anyone()
SignedIn = _SignedIn()
Staff = _Staff()
Driver = _Driver()
Superuser = _Superuser()


class Require(FieldExtension):
    """Field extension that lets the call through only when `rule` allows the caller."""

    def __init__(self, rule: Permission) -> None:
        self.rule = rule
        self.payload_class: type | None = None

    def apply(self, field: Any) -> None:
        self.payload_class = payload_class_of(field.type)

    def _denied(self, principal: Caller) -> Any:
        code = ErrorCode.FORBIDDEN if principal.is_authenticated else ErrorCode.UNAUTHENTICATED
        message = (
            f"Only {self.rule.description} may do this."
            if principal.is_authenticated
            else "Sign in first: this needs credentials."
        )
        if self.payload_class is not None:
            return payload_with_error(self.payload_class, code, message)
        graphql_code = "FORBIDDEN" if principal.is_authenticated else "UNAUTHENTICATED"
        raise GraphQLError(message, extensions={"code": graphql_code})

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        principal = info.context.principal
        if not self.rule.allows(principal, **kwargs):
            return self._denied(principal)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        principal = info.context.principal
        if not self.rule.allows(principal, **kwargs):
            return self._denied(principal)
        result = next_(source, info, **kwargs)
        # A subscription's resolver gives an async generator, which is returned, not awaited.
        return await result if inspect.isawaitable(result) else result
