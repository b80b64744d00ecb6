"""Depth, aliases and directives of an operation, measured in time linear in the document.

Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every path through the fragments: a
document of 1 KB whose fragments each spread the next one twice takes minutes. Here each
fragment is measured once and its figures reused at every spread, so the walk visits each node
of the document once. Aliases and directives count as the operation would run them (a fragment
spread twice counts twice: that is what it costs), which the memo computes without expanding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class Measure:
    depth: int = 0  # fields with a selection set, nested (introspection fields do not count)
    aliases: int = 0
    directives: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.directives + other.directives,
        )


class _Measurer:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, Measure] = {}
        self.measuring: set[str] = set()  # a cycle (refused by NoFragmentCyclesRule) counts 0

    def selection_set(self, node: SelectionSetNode | None) -> Measure:
        total = Measure()
        for selection in node.selections if node is not None else ():
            total += self.selection(selection)
        return total

    def selection(self, node: Any) -> Measure:
        own = Measure(directives=len(node.directives or ()))
        if isinstance(node, FieldNode):
            inner = self.selection_set(node.selection_set)
            counts_depth = node.selection_set is not None and not node.name.value.startswith("__")
            return own + Measure(
                depth=inner.depth + 1 if counts_depth else 0,
                aliases=inner.aliases + (node.alias is not None),
                directives=inner.directives,
            )
        if isinstance(node, InlineFragmentNode):
            return own + self.selection_set(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return own + self.fragment(node.name.value)
        return own

    def fragment(self, name: str) -> Measure:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return Measure()
        self.measuring.add(name)
        measure = Measure(directives=len(definition.directives or ())) + self.selection_set(
            definition.selection_set
        )
        self.measuring.discard(name)
        self.measured[name] = measure
        return measure


def measure_operation(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> Measure:
    measurer = _Measurer(fragments)
    return Measure(directives=len(operation.directives or ())) + measurer.selection_set(
        operation.selection_set
    )


@cache
def document_limits_rule(max_depth: int, max_aliases: int, max_directives: int) -> type:
    """The validation rule for these limits, made once per set of limits (ValidationCache keys
    its entries on the rule classes)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            measure = measure_operation(node, self.fragments)
            name = node.name.value if node.name else "anonymous"
            for what, found, limit in (
                ("depth", measure.depth, max_depth),
                ("aliases", measure.aliases, max_aliases),
                ("directives", measure.directives, max_directives),
            ):
                if found > limit:
                    self.report_error(
                        GraphQLError(
                            f"Operation '{name}' has {what} {found}; at most {limit} allowed.",
                            [node],
                            extensions={
                                "code": QUERY_TOO_COMPLEX,
                                "limit": what,
                                "found": found,
                                "allowed": limit,
                            },
                        )
                    )

    return DocumentLimits
