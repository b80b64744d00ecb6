"""Who is calling: a `Principal` (anonymous, a user, or a machine with an API key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AuthenticationFailed(Exception):
    """Credentials were presented but are not valid (expired, revoked, malformed, unknown)."""


@dataclass(frozen=True)
class Principal:
    """The caller of one request: anonymous, a user (by access token) or a machine (by API key)."""

    user: Any = None  # the active user model instance, when a person signed in
    api_key_name: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None or self.api_key_name is not None

    @property
    def is_user(self) -> bool:
        return self.user is not None

    @property
    def is_api_key(self) -> bool:
        return self.api_key_name is not None

    @property
    def user_uuid(self) -> Any:
        return self.user.uuid if self.user is not None else None

    @property
    def is_staff(self) -> bool:
        """Staff powers: a superuser, or a STAFF-type user an admin marked is_staff."""
        user = self.user
        return user is not None and (user.is_superuser or (user.is_staff and user.type == "STAFF"))

    @property
    def is_driver(self) -> bool:
        return self.user is not None and self.user.type == "DRIVER"

    @property
    def is_superuser(self) -> bool:
        return self.user is not None and self.user.is_superuser

    def has_scope(self, scope: str) -> bool:
        return self.api_key_name is not None and scope in self.scopes

    def as_actor(self) -> dict[str, Any]:
        if self.user is not None:
            return {"type": "user", "uuid": str(self.user.uuid)}
        if self.api_key_name is not None:
            return {"type": "apiKey", "name": self.api_key_name}
        return {"type": "anonymous"}


ANONYMOUS = Principal()
