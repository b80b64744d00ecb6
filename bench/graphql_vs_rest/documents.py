"""The three reads every variant serves: GraphQL documents, and the REST views' page sizes."""

from __future__ import annotations

from dataclasses import replace

from graphql import (
    FieldNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

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


def without_fields(document: str, paths: list[str]) -> str:
    """`document` (one operation) without the field at each dotted path of response keys (an
    empty selection keeps `__typename`), and without the variables no longer used: a cut of a
    read, for `profile --cut`."""
    parsed = parse(document)
    operation = parsed.definitions[0]
    assert isinstance(operation, OperationDefinitionNode) and len(parsed.definitions) == 1
    selection_set = operation.selection_set
    for path in paths:
        cut = _without(selection_set, path.split("."))
        if cut == selection_set:
            raise ValueError(f"{path} names no field of the document")
        selection_set = cut
    used = _variables_used(selection_set)
    declared = operation.variable_definitions or ()
    definitions = tuple(d for d in declared if d.variable.name.value in used)
    operation = replace(operation, selection_set=selection_set, variable_definitions=definitions)
    return print_ast(replace(parsed, definitions=(operation,)))


def _without(selection_set: SelectionSetNode, path: list[str]) -> SelectionSetNode:
    kept: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            kept.append(replace(selection, selection_set=_without(selection.selection_set, path)))
            continue
        named = isinstance(selection, FieldNode) and (selection.alias or selection.name).value
        if named != path[0]:
            kept.append(selection)
        elif len(path) > 1 and isinstance(selection, FieldNode) and selection.selection_set:
            inner = _without(selection.selection_set, path[1:])
            kept.append(replace(selection, selection_set=inner))
    if not kept:
        kept.append(FieldNode(name=NameNode(value="__typename"), arguments=(), directives=()))
    return replace(selection_set, selections=tuple(kept))


def _variables_used(node: SelectionSetNode) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, variable: VariableNode, *_: object) -> None:
            names.add(variable.name.value)

    visit(node, Collect())
    return names
