"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from strawberry.types import Info as StrawberryInfo

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


class Caller(Protocol):
    """What the kit and the module faces read of the caller. The transports fill it with auth's
    `Principal`; the kit names this protocol so that it depends on no module."""

    @property
    def user(self) -> Any: ...
    @property
    def api_key_name(self) -> str | None: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_user(self) -> bool: ...
    @property
    def is_api_key(self) -> bool: ...
    @property
    def user_uuid(self) -> uuid.UUID | None: ...
    @property
    def is_staff(self) -> bool: ...
    @property
    def is_driver(self) -> bool: ...
    @property
    def is_superuser(self) -> bool: ...
    def has_scope(self, scope: str) -> bool: ...
    def as_actor(self) -> dict[str, Any]: ...


@dataclass
class Context:
    principal: Caller
    request: HttpRequest | None = None
    response: HttpResponse | None = None
    correlation_id: str = ""
    # The caller's IP under the proxy rules (auth's client_address_from), for per-address limits:
    # each transport fills it, from the request or the websocket's handshake.
    client_address: str = "unknown"


Info = StrawberryInfo[Context, None]
