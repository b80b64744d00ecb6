"""jobs' GraphQL face: its types (types.py), root fields (schema.py), subscriptions."""

from modules.jobs.graphql.schema import Mutation, Query
from modules.jobs.graphql.subscriptions import Subscription

__all__ = ["Mutation", "Query", "Subscription"]
