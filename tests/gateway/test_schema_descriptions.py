"""Every type, field, argument, enum value and input field of the public schema says what it is:
GraphiQL's docs explorer and generated clients show these descriptions to people."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema.root import schema


def undescribed(graphql_schema: GraphQLSchema) -> list[str]:
    """What has no description (or a blank one), as `Type`, `Type.field`, `Type.field(arg)`,
    `Enum.VALUE`, `Input.field`, `@directive(arg)`."""
    missing: list[str] = []

    def check(description: str | None, where: str) -> None:
        if not (description or "").strip():
            missing.append(where)

    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__"):
            continue  # introspection's own types
        check(graphql_type.description, name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                check(field.description, f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    check(arg.description, f"{name}.{field_name}({arg_name})")
        elif isinstance(graphql_type, GraphQLInputObjectType):
            for field_name, input_field in graphql_type.fields.items():
                check(input_field.description, f"{name}.{field_name}")
        elif isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                check(value.description, f"{name}.{value_name}")
    for directive in graphql_schema.directives:
        check(directive.description, f"@{directive.name}")
        for arg_name, arg in directive.args.items():
            check(arg.description, f"@{directive.name}({arg_name})")
    return missing


def test_everything_in_the_schema_has_a_description():
    assert undescribed(schema._schema) == []


def test_the_walk_finds_what_lacks_a_description():
    """The check above can fail: a field, an argument and an enum value without one are named."""
    from graphql import GraphQLArgument, GraphQLEnumValue, GraphQLField, GraphQLString

    bare = GraphQLObjectType(
        "Bare",
        {"plain": GraphQLField(GraphQLString, args={"why": GraphQLArgument(GraphQLString)})},
        description="Described.",
    )
    enum = GraphQLEnumType("Kind", {"A": GraphQLEnumValue("A")}, description="Described.")
    probe = GraphQLSchema(
        query=GraphQLObjectType(
            "Query",
            {
                "bare": GraphQLField(bare, description="d"),
                "kind": GraphQLField(enum, description="d"),
            },
            description="d",
        )
    )
    assert {"Bare.plain", "Bare.plain(why)", "Kind.A"} <= set(undescribed(probe))


def test_last_says_it_returns_the_last_items():
    query_type = schema._schema.query_type
    assert query_type is not None
    jobs = query_type.fields["bulkJobs"]  # a connection every project has
    assert "last n items" in jobs.args["last"].description
    assert "after" not in jobs.args["last"].description.split("(")[0]
