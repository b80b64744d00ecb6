"""No NUL character (U+0000) and no unpaired surrogate in any text a client sends.

PostgreSQL can neither store nor compare text holding NUL: a lookup or a write with one raises
DataError, which would reach the client as a masked INTERNAL_SERVER_ERROR. A surrogate code point
(U+D800 to U+DFFF) on its own is not Unicode at all: JSON can carry one (`"\\ud800"`), Python
decodes it, and then no UTF-8 encoder takes it (the database driver, the response encoder). No
field has a use for either, so every String and ID value (and any other text: custom scalars,
input object fields, list items, object keys) is refused before a resolver runs, as the client's
mistake (BAD_USER_INPUT):

- literals, by a validation rule: graphql-core checks literals while validating, and
  ValidationCache keeps the verdict with the document (its lexer already refuses surrogates in a
  document, raw or escaped, as a syntax error: the rule covers them anyway);
- variables, once graphql-core has coerced them: `TextCheckedExecution`, a mixin of the schema's
  execution context, turns them into request errors before the operation runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, StringValueNode, ValidationRule

NUL = "\x00"
NUL_MESSAGE = "Text must not contain NUL characters."
SURROGATE_MESSAGE = "Text must be valid Unicode (no unpaired surrogate code points)."
# Paired surrogates in JSON (`"\ud83d\ude00"`) decode to one character; any left are unpaired.
_SURROGATE = re.compile("[\ud800-\udfff]")


def refusal_of(text: str) -> str | None:
    """Why `text` is refused, or None when it is fine."""
    if NUL in text:
        return NUL_MESSAGE
    # isascii() is a flag check: most text never reaches the search.
    if not text.isascii() and _SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def _refusal(message: str, node: Any) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"})


class ValidTextInStringLiterals(ValidationRule):
    """Refuses a string literal holding NUL (`"a\\u0000"`) or a lone surrogate, wherever it is."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        message = refusal_of(node.value)
        if message is not None:
            self.report_error(_refusal(message, node))


def _refused_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, why) of each refused text inside a coerced variable's value."""
    if isinstance(value, str):
        if (message := refusal_of(value)) is not None:
            yield path, message
    elif isinstance(value, Mapping):  # an input object, or a JSON scalar's object
        for key, item in value.items():
            if isinstance(key, str) and (message := refusal_of(key)) is not None:
                yield path, message  # the key itself is not echoed
            else:
                yield from _refused_paths(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _refused_paths(item, f"{path}[{index}]")


def text_errors(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """One error per coerced variable holding refused text somewhere (its value never echoed)."""
    errors = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        refused = next(_refused_paths(variables.get(name), name), None)
        if refused is not None:
            path, message = refused
            errors.append(_refusal(f"Variable '${name}' at '{path}': {message}", definition))
    return errors


class TextCheckedExecution:
    """Executor mixin: variables holding refused text stop the request when it is built."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        executor = super().build(*args, **kwargs)  # type: ignore[misc]  # a mixin: the executor has it
        if isinstance(executor, list):  # request errors already (variables that did not coerce)
            return executor
        return text_errors(executor.operation, executor.variable_values.coerced) or executor
