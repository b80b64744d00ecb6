"""Access changes reach open websocket connections at once, on every server process.

HTTP checks credentials on every request; a websocket checks them when it connects and then only
every GRAPHQL_WS_REAUTHENTICATE_SECONDS. So the gateway listens to the modules' signals that mean
"whose access just changed" (a user deactivated or their powers changed, sessions signed out, an
API key revoked) and, once the change is committed, announces whom through the live hub
(events.fanout.publish_access_changed); connections acting for them re-check their credentials
(schema.transports.websocket). The modules know nothing of this: they only send their signals.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from events import fanout
from modules.auth.api import credentials_revoked
from modules.user.api import user_access_changed, user_deactivated


def connect_receivers() -> None:
    user_deactivated.connect(_user_changed, dispatch_uid="gateway.access.user_deactivated")
    user_access_changed.connect(_user_changed, dispatch_uid="gateway.access.user_access_changed")
    credentials_revoked.connect(
        _credentials_revoked, dispatch_uid="gateway.access.credentials_revoked"
    )


def announce(*, user_uuid: Any = None, api_key_name: str | None = None) -> None:
    """Publish the access change once the current transaction commits (at once outside one).

    After commit: a connection that re-checks sooner would still see the old state, and a rolled
    back change changed nothing. Robust: the change itself has happened; a failed announcement
    only leaves connections to their periodic check.
    """

    # A function, not a partial: Django names a failed robust callback by its __qualname__.
    def publish_access_changed() -> None:
        fanout.publish_access_changed(user_uuid=user_uuid, api_key_name=api_key_name)

    transaction.on_commit(publish_access_changed, robust=True)


def _user_changed(sender: Any, *, user_uuid: Any, **kwargs: Any) -> None:
    announce(user_uuid=user_uuid)


def _credentials_revoked(
    sender: Any, *, user_uuid: Any = None, api_key_name: str | None = None, **kwargs: Any
) -> None:
    announce(user_uuid=user_uuid, api_key_name=api_key_name)
