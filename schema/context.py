"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as StrawberryInfo

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from modules.auth.api import Principal


@dataclass
class Context:
    principal: Principal
    request: HttpRequest | None = None
    response: HttpResponse | None = None
    correlation_id: str = ""
    # The caller's IP under the proxy rules (auth's client_address_from), for per-address limits:
    # each transport fills it, from the request or the websocket's handshake.
    client_address: str = "unknown"
    # DataLoaders live for one request, so batching never leaks data across callers.
    loaders: dict[str, Any] = field(default_factory=dict)

    def loader(self, name: str, factory: Any) -> Any:
        """The request's DataLoader called `name`, created by `factory()` on first use."""
        if name not in self.loaders:
            self.loaders[name] = factory()
        return self.loaders[name]


Info = StrawberryInfo[Context, None]
