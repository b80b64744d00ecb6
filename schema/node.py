"""`node(id:)`: any entity by its Relay global id. Each type's get_queryset applies its own access rules."""

import strawberry
from strawberry import relay

from schema.permissions import Require, SignedIn


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(extensions=[Require(SignedIn)])
