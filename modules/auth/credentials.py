"""The secrets auth hands out and checks: access JWTs, refresh tokens, API keys, one-time codes.

Pure functions (no database): how each secret is made, how it is digested for storage, and how
an access token is signed and verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings

ACCESS_TOKEN_TYPE = "access"
JWT_ALGORITHM = "HS256"
API_KEY_PREFIX_BYTES = 6  # 12 hex characters, enough to look a key up without scanning


def _keyed_digest(purpose: str, value: str) -> str:
    # A separate HMAC key per purpose, so a digest of one kind never matches another kind.
    key = hashlib.sha256(f"majestic.auth.{purpose}\0{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def phone_digest(phone_number: str) -> str:
    """How auth refers to a number in its own tables (it keeps none in clear)."""
    return _keyed_digest("phone", phone_number)


def rate_limit_key(limit: str, caller: str) -> str:
    """`<limit>:<keyed digest of the caller>`: the limits' table holds no address, username or
    number in clear, and without the secret key nobody can tell whose row is whose."""
    return f"{limit}:{_keyed_digest('rate-limit', caller)}"


def new_verification_code() -> str:
    """Six digits from the OS's CSPRNG, leading zeros kept."""
    return f"{secrets.randbelow(1_000_000):06d}"


def verification_code_digest(phone_number: str, code: str) -> str:
    # Keyed, so a database dump alone cannot be brute-forced over the million possible codes.
    return _keyed_digest("verification-code", f"{phone_number}:{code}")


def secret_digest(secret: str) -> str:
    """Digest of a long random secret (refresh token, API key): plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """(prefix, key), key = `<prefix>.<secret>`: the prefix finds the row, the digest checks it."""
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class AccessClaims:
    user_uuid: uuid.UUID
    # Every token belongs to a session (RefreshTokenFamily): revoking it ends the token at once.
    session_uuid: uuid.UUID
    issued_at: dt.datetime
    expires_at: dt.datetime


class InvalidAccessToken(Exception):
    """The token is not one of ours, is malformed or has expired; the message is safe to show."""


def encode_access_token(*, user_uuid: uuid.UUID, session_uuid: uuid.UUID, now: dt.datetime) -> str:
    if not isinstance(session_uuid, uuid.UUID):
        # A token without a session could not be signed out: never issue one.
        raise TypeError("An access token needs the uuid of its session.")
    claims: dict[str, object] = {
        "iss": settings.JWT_ISSUER,
        "sub": str(user_uuid),
        "sid": str(session_uuid),
        "type": ACCESS_TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int((now + settings.ACCESS_TOKEN_LIFETIME).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[JWT_ALGORITHM],
            issuer=settings.JWT_ISSUER,
            # `sid` too: a token without a session would survive signing out.
            options={"require": ["exp", "iat", "iss", "sub", "sid", "type", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken("The access token is not valid.") from exc
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidAccessToken("The access token is not valid.")
    try:
        user_uuid = uuid.UUID(str(claims["sub"]))
        session_uuid = uuid.UUID(str(claims["sid"]))
        issued_at = dt.datetime.fromtimestamp(int(claims["iat"]), tz=dt.UTC)
        expires_at = dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidAccessToken("The access token is not valid.") from exc
    return AccessClaims(
        user_uuid=user_uuid, session_uuid=session_uuid, issued_at=issued_at, expires_at=expires_at
    )
