"""Live shipping updates: `transportUpdates(transportUuid)`, the transport after each change.

Shipping's own events name the transport they changed (`transportUuid` in their data); each one
re-reads the transport through the same access rules as the `transport` query, so a driver who is
taken off a transport stops seeing it. Only the newest state matters: a client that falls behind
gets the latest transport, not every step in between.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Annotated, Any

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError

from events import camel_case, fanout
from modules.shipping import selectors
from modules.shipping.graphql.types import Transport
from modules.shipping.models import Transport as TransportModel
from schema.kit.context import Info
from schema.kit.permissions import Driver, Require, Staff

TRANSPORT_UUID_KEY = camel_case("transport_uuid")  # how events' data names the transport


def _visible_transport(principal: Any, transport_uuid: uuid.UUID) -> TransportModel | None:
    driver_uuid = principal.user_uuid if principal.is_driver else None
    return (
        selectors.transports_visible(is_staff=principal.is_staff, driver_uuid=driver_uuid)
        .filter(uuid=transport_uuid)
        .first()
    )


def concerning(transport_uuid: uuid.UUID) -> Callable[[fanout.Item], bool]:
    """Accepts shipping's events about this transport."""
    source = f"{settings.EVENTS_SOURCE_PREFIX}.shipping"
    wanted = str(transport_uuid)

    def accepts(item: fanout.Item) -> bool:
        if not isinstance(item, dict) or item.get("source") != source:
            return False
        data = (item.get("detail") or {}).get("data") or {}
        return data.get(TRANSPORT_UUID_KEY) == wanted

    return accepts


async def transport_update_stream(
    info: Info, transport_uuid: uuid.UUID
) -> AsyncGenerator[TransportModel, None]:
    changes = fanout.subscription(concerning(transport_uuid), buffer_size=1, keep_latest_only=True)
    async with changes as updates:
        async for _change in updates:
            principal = info.context.principal
            transport = await database_sync_to_async(_visible_transport)(principal, transport_uuid)
            if transport is None:
                raise GraphQLError(
                    "This transport is no longer visible to you.", extensions={"code": "FORBIDDEN"}
                )
            yield transport


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=[Require(Staff | Driver)],
        description="The transport after each change (batches added, driver assigned, started, "
        "completed). Staff may watch any transport; a driver the transports assigned to them.",
    )
    async def transport_updates(
        self,
        info: Info,
        transport_uuid: Annotated[
            uuid.UUID, strawberry.argument(description="The transport to follow.")
        ],
    ) -> AsyncGenerator[Transport, None]:
        principal = info.context.principal
        if await database_sync_to_async(_visible_transport)(principal, transport_uuid) is None:
            # Same answer for "absent" and "not yours": drivers learn nothing of others' trips.
            raise GraphQLError("No such transport.", extensions={"code": "NOT_FOUND"})
        return transport_update_stream(info, transport_uuid)  # type: ignore[return-value]  # rows, resolved as Transport
