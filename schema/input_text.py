"""No NUL character (U+0000) in any text a client sends.

PostgreSQL can neither store nor compare text holding NUL: a lookup or a write with one raises
DataError, which would reach the client as a masked INTERNAL_SERVER_ERROR. No field has a use for
it, so every String and ID value (and any other text: custom scalars, input object fields, list
items) is refused before a resolver runs, as the client's mistake (BAD_USER_INPUT):

- literals, by a validation rule: graphql-core checks literals while validating, and
  ValidationCache keeps the verdict with the document;
- variables, once graphql-core has coerced them: `NulCheckedExecution`, a mixin of the schema's
  execution context, turns them into request errors before the operation runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, StringValueNode, ValidationRule

NUL = "\x00"
NUL_MESSAGE = "Text must not contain NUL characters."


def _refusal(message: str, node: Any) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"})


class NoNulInStringLiterals(ValidationRule):
    """Refuses a string literal holding NUL (`"a\\u0000"` in the document), wherever it is."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.report_error(_refusal(NUL_MESSAGE, node))


def _paths_with_nul(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, Mapping):  # an input object, or a JSON scalar's object
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                yield path
            else:
                yield from _paths_with_nul(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _paths_with_nul(item, f"{path}[{index}]")


def nul_errors(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """One error per coerced variable holding NUL somewhere (its value is never echoed)."""
    errors = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        path = next(_paths_with_nul(variables.get(name), name), None)
        if path is not None:
            errors.append(_refusal(f"Variable '${name}' at '{path}': {NUL_MESSAGE}", definition))
    return errors


class NulCheckedExecution:
    """Executor mixin: variables holding NUL stop the request when the executor is built."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        executor = super().build(*args, **kwargs)  # type: ignore[misc]
        if isinstance(executor, list):  # request errors already (variables that did not coerce)
            return executor
        return nul_errors(executor.operation, executor.variable_values.coerced) or executor
