"""auth's GraphQL face: its root fields (schema.py); auth offers no types to other modules."""

from modules.auth.graphql.schema import Mutation, Query

Subscription = None

__all__ = ["Mutation", "Query", "Subscription"]
