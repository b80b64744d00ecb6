"""shipping's GraphQL face: its types (types.py), root fields (schema.py), subscriptions."""

from modules.shipping.graphql.schema import Mutation, Query
from modules.shipping.graphql.subscriptions import Subscription

__all__ = ["Mutation", "Query", "Subscription"]
