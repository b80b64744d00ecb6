"""The three reads every variant serves: GraphQL documents, and the REST views' page sizes."""

from __future__ import annotations

ITEMS = "items"
TRANSPORTS = "transports"
ARRIVALS = "arrivals"

# (a) a page of items with their status, batches and current center.
ITEMS_QUERY = """
query BenchShippingItems {
  shippingItems(first: 100) {
    edges { node {
      trackingNumber status batches { edges { node { alias } } } currentCenter { name }
    } }
  }
}
"""

# (b) the nested transports query of issue 3.
TRANSPORTS_QUERY = """
query BenchTransports {
  transports(first: 50) {
    edges { node {
      sourceCenter { name } destinationCenter { name } driver { fullName }
      batches(first: 20) { edges { node {
        alias
        items(first: 50) { edges { node { trackingNumber status currentCenter { name } } } }
      } } }
    } }
  }
}
"""

# (c) other paths than (a) and (b): a filter (an enum value), an order, `totalCount` at the root
# and on a nested page, enum and date-time columns, and `node(id:)` with an inline fragment (the
# id is a variable: one item's global id, chosen by seed.arrivals_item_id()).
ARRIVALS_QUERY = """
query BenchArrivals($item: ID!) {
  transports(
    first: 20, filter: { status: ARRIVED }, order: { field: ARRIVED_AT, direction: DESC }
  ) {
    totalCount
    edges { node {
      status arrivedAt destinationCenter { name }
      batches(first: 5) { totalCount edges { node { alias completedAt } } }
    } }
  }
  node(id: $item) {
    id
    ... on ShippingItem {
      trackingNumber status createdAt completedAt
      batches { totalCount edges { node { alias } } }
    }
  }
}
"""

GRAPHQL_QUERIES = {ITEMS: ITEMS_QUERY, TRANSPORTS: TRANSPORTS_QUERY, ARRIVALS: ARRIVALS_QUERY}

# The variables each document takes (the REST views take the same values as query parameters).
ARRIVALS_ITEM = "item"

# Page sizes the REST views use, the same as the GraphQL documents'.
ITEMS_PAGE = 100
TRANSPORTS_PAGE = 50
BATCHES_PER_TRANSPORT = 20
ITEMS_PER_BATCH = 50
ARRIVALS_PAGE = 20
BATCHES_PER_ARRIVAL = 5
# A nested page without `first`: strawberry-django's PAGINATION_DEFAULT_LIMIT.
NODE_BATCHES_PAGE = 100
