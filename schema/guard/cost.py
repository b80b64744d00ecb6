"""An operation's cost: requested (from the document, before it runs) and actual (from its data).

The rules of the IBM GraphQL cost specification, as Apollo Router and Hive Router apply them:
- a field whose type is an object, interface or union costs 1; a scalar or an enum costs 0;
  `@cost(weight:)` on a field, or on the type it returns, says otherwise;
- a field of the Mutation root adds 10;
- a list multiplies the cost of each item (its weight and its selection) by its size:
  `@listSize(assumedSize:)`, else the value of its slicing argument (given, else its default in
  the schema, e.g. `attempts(first: Int = 10)`), else the default size;
- a connection (a field with `first`/`last` whose type has `edges`) is sliced by `first` or
  `last` (the larger when both), else the default page size, and that size multiplies its
  sized fields (`edges`, `nodes`); `@listSize(slicingArguments:, sizedFields:)` names others;
- `@skip`/`@include` are honoured with the operation's variables; a fragment costs what its
  selection costs at each use, measured once per (fragment, size) and reused, so the walk takes
  time linear in the document; where fragments narrow an abstract type, the costliest counts;
- introspection (`__schema`, `__type`, `__typename`) costs nothing: it reads no database, and
  GRAPHQL_INTROSPECTION governs who may ask.

The actual cost counts what came back the same way: each object returned costs its weight, each
mutation field 10, and a list its items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
)
from strawberry.schema_directive import Location
from strawberry.utils.str_converters import to_camel_case

from schema.engine import IdentityMap

MUTATION_WEIGHT = 10
SLICING_ARGUMENTS = ("first", "last")
SIZED_FIELDS = ("edges", "nodes")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT],
    description="What the field (or every field returning this type) costs: the cost rules of "
    "the IBM GraphQL cost specification; objects cost 1 unless said here.",
)
class Cost:
    weight: int = strawberry.field(description="The cost of one value of the field.")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description="How many items a list field returns, for its cost: `assumedSize`, or the value "
    "of one of `slicingArguments`, which then sizes `sizedFields` of the returned type.",
)
class ListSize:
    # UNSET, not None: the SDL then shows only the arguments given.
    assumed_size: int | None = strawberry.field(
        default=strawberry.UNSET, description="The size to assume when no argument gives one."
    )
    slicing_arguments: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The arguments that give the size (e.g. `first`)."
    )
    sized_fields: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The fields of the result that the size applies to (e.g. `edges`).",
    )


# A connection's slice, and the fields of its type that slice sizes.
Sizing = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class FieldRule:
    weight: int | None  # None: 1 for composite types, 0 for leaves
    assumed_size: int | None
    slicing_arguments: tuple[str, ...]
    sized_fields: tuple[str, ...]
    # A slicing argument's default value in the schema, when it is a number: its size if absent.
    slicing_defaults: tuple[tuple[str, int], ...] = ()


def _directive(definition: Any, kind: type) -> Any:
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, kind):
            return directive
    return None


def _strawberry_definition(graphql_thing: Any) -> Any:
    """The Strawberry definition behind a graphql-core field or type (where the schema directives
    given in Python stay; graphql-core's own objects do not hold them)."""
    return (graphql_thing.extensions or {}).get("strawberry-definition")


def _rule(field: GraphQLField) -> FieldRule:
    definition = _strawberry_definition(field)
    named = get_named_type(field.type)
    cost = _directive(definition, Cost) or _directive(_strawberry_definition(named), Cost)
    size = _directive(definition, ListSize)
    slicing = tuple(a for a in SLICING_ARGUMENTS if a in field.args)
    # A connection: sliced by `first`/`last`, its edges (or nodes) are the list they size.
    sized = tuple(
        f
        for f in SIZED_FIELDS
        if slicing and isinstance(named, GraphQLObjectType) and f in named.fields
    )
    if size is not None and size.slicing_arguments:
        slicing = tuple(size.slicing_arguments)
    if size is not None and size.sized_fields:
        sized = tuple(size.sized_fields)
    defaults = tuple(
        (name, default)
        for name in slicing
        if name in field.args
        and isinstance(default := field.args[name].default_value, int)
        and not isinstance(default, bool)
    )
    return FieldRule(
        weight=cost.weight if cost is not None else None,
        assumed_size=size.assumed_size if size is not None and size.assumed_size else None,
        slicing_arguments=slicing,
        sized_fields=sized,
        slicing_defaults=defaults,
    )


class CostRules:
    """Each field's rule, read once from the schema."""

    def __init__(
        self, schema: GraphQLSchema, *, default_list_size: int, max_page_size: int | None
    ) -> None:
        self.schema = schema
        self.default_list_size = default_list_size
        self.max_page_size = max_page_size
        self.rules: dict[tuple[str, str], FieldRule] = {}
        for type_ in schema.type_map.values():
            if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
                for name, field in type_.fields.items():
                    self.rules[type_.name, name] = _rule(field)
        mutation = schema.mutation_type
        self.mutation_name = mutation.name if mutation is not None else None
        # The actual cost's pricer of each operation seen (`actual_cost`).
        self.pricers: IdentityMap[_ActualCost] = IdentityMap()

    def rule(self, type_name: str, field_name: str) -> FieldRule:
        return self.rules[type_name, field_name]


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _included(node: Any, variables: Mapping[str, Any]) -> bool:
    """@skip/@include as execution reads them (a missing variable: as given, the default)."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next((a.value for a in directive.arguments if a.name.value == "if"), None)
        if isinstance(condition, VariableNode):
            value = bool(variables.get(condition.name.value))
        elif isinstance(condition, BooleanValueNode):
            value = condition.value
        else:
            value = False
        if (name == "skip" and value) or (name == "include" and not value):
            return False
    return True


def _argument_int(node: FieldNode, name: str, variables: Mapping[str, Any]) -> int | None:
    """An Int argument's value, from its literal or its variable (None: absent, or not an int:
    coercion refuses that later)."""
    for argument in node.arguments or ():
        if argument.name.value != name:
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            raw = variables.get(value.name.value)
            return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if isinstance(value, IntValueNode):
            return int(value.value)
    return None


def _given(node: FieldNode, name: str, variables: Mapping[str, Any]) -> bool:
    """Whether the argument is there (a literal, or a variable with a value): absent, the
    schema's default applies."""
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            return not isinstance(value, VariableNode) or value.name.value in variables
    return False


class _RequestedCost:
    def __init__(
        self,
        rules: CostRules,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.rules = rules
        self.fragments = fragments
        self.variables = variables
        self.refusals: list[GraphQLError] = []
        self.measured: dict[tuple[str, Sizing | None], int] = {}
        self.measuring: set[tuple[str, Sizing | None]] = set()

    def selection_set(
        self, node: SelectionSetNode | None, parent: Any, sizing: Sizing | None
    ) -> int:
        """`sizing`: the slice of the connection this selection is on, and the fields it sizes."""
        if node is None or parent is None:
            return 0
        total, narrowed = 0, dict[str, int]()
        for selection in node.selections:
            if not _included(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sizing)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                cost = self.selection_set(
                    selection.selection_set, self._type(condition, parent), sizing
                )
            elif isinstance(selection, FragmentSpreadNode):
                definition = self.fragments.get(selection.name.value)
                if definition is None:
                    continue
                condition = definition.type_condition
                cost = self.fragment(definition, self._type(condition, parent), sizing)
            else:
                continue
            if condition is None or condition.name.value == parent.name:
                total += cost
            else:  # narrows the parent to one of its types: only one applies to each object
                key = condition.name.value
                narrowed[key] = narrowed.get(key, 0) + cost
        return total + max(narrowed.values(), default=0)

    def _type(self, condition: Any, parent: Any) -> Any:
        return self.rules.schema.get_type(condition.name.value) if condition else parent

    def fragment(
        self, definition: FragmentDefinitionNode, parent: Any, sizing: Sizing | None
    ) -> int:
        key = (definition.name.value, sizing)
        if key in self.measured:
            return self.measured[key]
        if key in self.measuring:  # a cycle: refused by validation, counts nothing here
            return 0
        self.measuring.add(key)
        cost = self.selection_set(definition.selection_set, parent, sizing)
        self.measuring.discard(key)
        self.measured[key] = cost
        return cost

    def field(self, node: FieldNode, parent: Any, sizing: Sizing | None) -> int:
        name = node.name.value
        if name.startswith("__") or parent is None or name not in getattr(parent, "fields", {}):
            return 0
        field = parent.fields[name]
        rule = self.rules.rule(parent.name, name)
        named = get_named_type(field.type)
        weight = rule.weight if rule.weight is not None else int(is_composite_type(named))
        if parent.name == self.rules.mutation_name:
            weight += MUTATION_WEIGHT
        slice_size = self._slice(node, rule)
        children = self.selection_set(
            node.selection_set,
            named,
            (slice_size, rule.sized_fields) if rule.sized_fields else None,
        )
        own = weight + children
        if not _is_list(field.type):
            return own
        if sizing is not None and name in sizing[1]:
            count = sizing[0]
        elif rule.assumed_size is not None:
            count = rule.assumed_size
        elif rule.slicing_arguments:
            count = slice_size
        else:
            count = self.rules.default_list_size
        return count * own

    def _slice(self, node: FieldNode, rule: FieldRule) -> int:
        sizes = []
        defaults = dict(rule.slicing_defaults)
        for argument in rule.slicing_arguments:
            value = _argument_int(node, argument, self.variables)
            if value is None and not _given(node, argument, self.variables):
                value = defaults.get(argument)
            if value is None:
                continue
            if rule.sized_fields:  # a connection's page: the same bounds whatever is beside it
                self._check_page_argument(node, argument, value)
            sizes.append(max(value, 0))
        return max(sizes) if sizes else self.rules.default_list_size

    def _check_page_argument(self, node: FieldNode, argument: str, value: int) -> None:
        """A connection's `first`/`last` within 0..max page size, also when both are given
        (the library checks only the one it slices by first, and lets a negative `last` beside
        `first` through)."""
        most = self.rules.max_page_size
        if value < 0:
            message = f"Argument '{argument}' must be a non-negative integer."
        elif most is not None and value > most:
            message = f"Argument '{argument}' cannot be higher than {most}."
        else:
            return
        self.refusals.append(GraphQLError(message, [node], extensions={"code": "BAD_USER_INPUT"}))


@dataclass(frozen=True)
class Requested:
    cost: int
    # Paging arguments out of bounds, found on the way: the operation is refused with them.
    refusals: list[GraphQLError]


def requested_cost(
    rules: CostRules,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> Requested:
    root = rules.schema.get_root_type(operation.operation)
    walk = _RequestedCost(rules, fragments, variables or {})
    cost = walk.selection_set(operation.selection_set, root, None)
    return Requested(cost, walk.refusals)


@dataclass(eq=False)
class Charge:
    response_key: str
    weight: int  # per object (or per value of a weighted scalar)
    extra: int  # once, whatever it returned: a mutation field's
    selection_sets: tuple[SelectionSetNode, ...]  # an object's: what it is charged for in turn
    child_type: Any  # the object's type (None: a leaf)
    # The charges of each object it returns, once the first one was priced (a concrete type's
    # only: an abstract type's depend on each object's __typename).
    child_plan: list[Charge] | None = None


class _ActualCost:
    """Prices one operation's data. Kept per document (`actual_cost`): its plans are worked out
    once per selection and type, then each request only walks its data."""

    def __init__(self, rules: CostRules, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.rules = rules
        self.fragments = fragments
        # By selection (ids of its nodes) and type; the document holds the nodes meanwhile.
        self.plans: dict[tuple[tuple[int, ...], str], list[Charge]] = {}

    def fields(
        self, nodes: tuple[SelectionSetNode, ...], parent: Any
    ) -> dict[str, list[tuple[FieldNode, Any]]]:
        """The field nodes of a selection on one object by response key, through its fragments:
        every node of a key, as graphql-core merges them (`a { x } a { y }` runs both)."""
        found: dict[str, list[tuple[FieldNode, Any]]] = {}
        visited: set[str] = set()  # spread again on the same object, a fragment adds nothing

        def collect(node: SelectionSetNode | None, owner: Any) -> None:
            for selection in node.selections if node is not None else ():
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    found.setdefault(key, []).append((selection, owner))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    collect(
                        selection.selection_set,
                        self.rules.schema.get_type(condition.name.value) if condition else owner,
                    )
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    definition = self.fragments.get(name)
                    if definition is not None and name not in visited:
                        visited.add(name)
                        condition = definition.type_condition
                        collect(
                            definition.selection_set,
                            self.rules.schema.get_type(condition.name.value),
                        )

        for node in nodes:
            collect(node, parent)
        return found

    def plan(self, nodes: tuple[SelectionSetNode, ...], parent: Any) -> list[Charge]:
        """What each object of this selection is charged for, worked out once per selection and
        type (a page of 100 rows repeats one selection 100 times). Fields that cost nothing and
        hold no object (scalars, enums) are left out."""
        key = (tuple(id(node) for node in nodes), parent.name)
        plan = self.plans.get(key)
        if plan is not None:
            return plan
        plan = []
        for response_key, field_nodes in self.fields(nodes, parent).items():
            field_node, owner = field_nodes[0]
            name = field_node.name.value
            fields = getattr(owner, "fields", {})
            if name.startswith("__") or name not in fields:
                continue
            named = get_named_type(fields[name].type)
            rule = self.rules.rule(owner.name, name)
            composite = is_composite_type(named)
            weight = rule.weight if rule.weight is not None else int(composite)
            extra = MUTATION_WEIGHT if owner.name == self.rules.mutation_name else 0
            if weight or extra or composite:
                selections = tuple(
                    node.selection_set for node, _ in field_nodes if node.selection_set is not None
                )
                plan.append(
                    Charge(response_key, weight, extra, selections, named if composite else None)
                )
        self.plans[key] = plan
        return plan

    # The walk visits every object of the data (a 5,000-row read: ~15,000), so it is kept
    # tight: an object or a list of objects, the commonest values, is priced in place rather
    # than through one more call of `value`.
    def object(self, plan: list[Charge], data: Mapping[str, Any]) -> int:
        total = 0
        for charge in plan:
            key = charge.response_key
            if key in data:
                total += charge.extra
                value = data[key]
                if value is None:
                    continue
                if type(value) is dict and charge.child_type is not None:
                    child_plan = charge.child_plan
                    if child_plan is None:
                        child_plan = self.child_plan(charge, value)
                    total += charge.weight
                    if child_plan:
                        total += self.object(child_plan, value)
                else:
                    total += self.value(charge, value)
        return total

    def value(self, charge: Charge, value: Any) -> int:
        if type(value) is list:
            total = 0
            for item in value:
                if item is None:
                    continue
                if type(item) is dict and charge.child_type is not None:
                    child_plan = charge.child_plan
                    if child_plan is None:
                        child_plan = self.child_plan(charge, item)
                    total += charge.weight
                    if child_plan:
                        total += self.object(child_plan, item)
                else:
                    total += self.value(charge, item)
            return total
        if charge.child_type is None or not isinstance(value, Mapping):
            return charge.weight
        child_plan = charge.child_plan
        if child_plan is None:
            child_plan = self.child_plan(charge, value)
        return charge.weight + (self.object(child_plan, value) if child_plan else 0)

    def child_plan(self, charge: Charge, data: Mapping[str, Any]) -> list[Charge]:
        """The charges of `data`, an object `charge` returned, before its plan is kept."""
        child_type = charge.child_type
        if is_abstract_type(child_type):
            typename = data.get("__typename")
            concrete = self.rules.schema.get_type(typename) if isinstance(typename, str) else None
            return self.plan(charge.selection_sets, concrete or child_type)
        charge.child_plan = self.plan(charge.selection_sets, child_type)
        return charge.child_plan


def actual_cost(
    rules: CostRules,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    data: Mapping[str, Any] | None,
) -> int:
    if not data:
        return 0
    # Kept per parsed document (the parser cache hands the same one back), gone with it.
    pricer = rules.pricers.get(operation)
    if pricer is None:
        pricer = rules.pricers[operation] = _ActualCost(rules, fragments)
    root = rules.schema.get_root_type(operation.operation)
    return pricer.object(pricer.plan((operation.selection_set,), root), data)


def describe_directive_arguments(graphql_schema: GraphQLSchema) -> None:
    """Give @cost's and @listSize's arguments the descriptions of their fields above: Strawberry
    leaves a schema directive's field descriptions out of the arguments it builds from them."""
    directives: tuple[tuple[str, Any], ...] = (("cost", Cost), ("listSize", ListSize))
    for name, directive_class in directives:
        definition = directive_class.__strawberry_directive__  # set by schema_directive
        built = graphql_schema.get_directive(name)
        if built is None:
            continue
        for field in definition.fields:
            argument = built.args.get(to_camel_case(field.python_name))
            if argument is not None:
                argument.description = field.description
