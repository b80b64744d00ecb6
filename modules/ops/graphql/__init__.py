"""ops' GraphQL face: its types (types.py), root fields (schema.py) and subscriptions."""

from modules.ops.graphql.schema import Mutation, Query
from modules.ops.graphql.subscriptions import Subscription

__all__ = ["Mutation", "Query", "Subscription"]
