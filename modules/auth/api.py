"""What the gateway and other modules may use of auth: who is calling."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from modules.auth.principals import ANONYMOUS, AuthenticationFailed, Principal
from modules.auth.signals import credentials_revoked

__all__ = [
    "ANONYMOUS",
    "AuthenticationFailed",
    "Principal",
    "access_token_for",
    "authenticate",
    "client_address_from",
    "credentials_revoked",
    "purge_expired",
]


def client_address_from(peer: str | None, forwarded_for: str | None = None) -> str:
    """The caller's IP, for per-address limits: the socket's `peer`, or the entry that
    TRUSTED_PROXY_HOPS proxies in front appended to `forwarded_for` (X-Forwarded-For).

    The same rule for HTTP requests and websocket handshakes. The server must hand the app the
    socket's own peer (uvicorn --no-proxy-headers): only the app decides which proxies to believe.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0 and forwarded_for:
        forwarded = [a.strip() for a in forwarded_for.split(",") if a.strip()]
        if len(forwarded) >= hops:
            # Entries before the last `hops` ones come from the client itself: never believed.
            return forwarded[-hops][:64]
    return str(peer or "unknown")[:64]


def authenticate(authorization: str | None) -> Principal:
    """The principal for an `Authorization` header value (`Bearer <jwt>` or `Api-Key <key>`).

    No header means anonymous; a header that does not check out raises AuthenticationFailed.
    """
    if not authorization:
        return ANONYMOUS
    from modules.auth.services import principal_for_authorization

    return principal_for_authorization(authorization)


def access_token_for(user: Any) -> str:
    """A fresh access token for `user` (tests, seeds, benchmarks), in a new session of its own:
    revoking that session (or all of the user's, on a ban) ends the token like a signed-in one."""
    from modules.auth.services import issue_access_token

    return issue_access_token(user)


def purge_expired() -> dict[str, int]:
    """Housekeeping for the heartbeat: delete expired codes, tokens, sessions and limit windows.

    Returns how many rows of each kind were deleted, e.g. {"verification_codes": 3,
    "refresh_tokens": 12, "sessions": 4, "phone_number_locks": 1, "rate_limit_windows": 7}.
    """
    from modules.auth.services import expired_credentials_purge

    return expired_credentials_purge()
