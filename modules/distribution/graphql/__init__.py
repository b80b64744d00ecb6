"""distribution's GraphQL face: its types (types.py) and root fields (schema.py)."""

from modules.distribution.graphql.schema import Mutation, Query

Subscription = None

__all__ = ["Mutation", "Query", "Subscription"]
