"""What the gateway and other modules may use of auth: who is calling."""

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


def authenticate(authorization: str | None) -> Principal:
    """The principal for an `Authorization` header value (`Bearer <jwt>` or `Api-Key <key>`).

    No header means anonymous; a header that does not check out raises AuthenticationFailed.
    """
    if not authorization:
        return ANONYMOUS
    from modules.auth.services import principal_for_authorization

    return principal_for_authorization(authorization)


def access_token_for(user: Any) -> str:
    """A fresh access token for `user` (tests, seeds and the in-process gateway client)."""
    from modules.auth.services import issue_access_token

    return issue_access_token(user)


def purge_expired() -> dict[str, int]:
    """Housekeeping for the heartbeat: delete expired codes, tokens, sessions and limit windows.

    Returns how many rows of each kind were deleted, e.g. {"verification_codes": 3,
    "refresh_tokens": 12, "sessions": 4, "phone_number_locks": 1, "rate_limit_windows": 7}.
    """
    from modules.auth.services import expired_credentials_purge

    return expired_credentials_purge()
