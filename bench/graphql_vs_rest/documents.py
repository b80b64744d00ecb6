"""The two reads every variant serves: GraphQL documents, and the REST views' page sizes."""

from __future__ import annotations

ITEMS = "items"
TRANSPORTS = "transports"

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

# (b) nested transports: 50 transports, 20 batches each, 50 items per batch.
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

GRAPHQL_QUERIES = {ITEMS: ITEMS_QUERY, TRANSPORTS: TRANSPORTS_QUERY}

# Page sizes the REST views use, the same as the GraphQL documents'.
ITEMS_PAGE = 100
TRANSPORTS_PAGE = 50
BATCHES_PER_TRANSPORT = 20
ITEMS_PER_BATCH = 50
