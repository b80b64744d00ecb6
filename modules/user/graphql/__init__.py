"""The user module's GraphQL face: its types (types.py) and root fields (schema.py)."""

from modules.user.graphql.schema import Mutation, Query

Subscription = None

__all__ = ["Mutation", "Query", "Subscription"]
