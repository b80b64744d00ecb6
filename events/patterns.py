"""EventBridge event patterns: validated once, then matched against events as EventBridge does.

Supported (the content filters of EventBridge's documentation): exact values (strings, numbers,
booleans, null), `prefix` and `suffix` (each also with `equals-ignore-case`), `equals-ignore-case`,
`anything-but` (a value, a list of values, or `prefix` / `suffix` / `equals-ignore-case` /
`wildcard`), `numeric` ranges, `exists`, `wildcard`, `cidr`, `$or`, and nested objects.

Semantics, as EventBridge has them:
- every field named in the pattern must match (AND); the values listed for one field are
  alternatives (OR);
- a field holding an array matches when any of its elements matches;
- a nested pattern object applies to an object, or to any object element of an array of objects;
- only `{"exists": false}` matches a field that is absent; `anything-but` needs the field present;
- strings and numbers never equal each other ("5" is not 5), but 5 equals 5.0.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["EventPattern", "InvalidEventPattern", "matches"]

_MISSING = object()
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


class InvalidEventPattern(ValueError):
    """The pattern is not one EventBridge would accept; the message names where."""


# A leaf test: the list of values found at the field (empty when absent) -> matched or not.
Leaf = Callable[[list[Any]], bool]
# A single-value test used inside a leaf.
ValueTest = Callable[[Any], bool]


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether `event` matches `pattern` (validates the pattern first)."""
    return EventPattern(pattern).matches(event)


class EventPattern:
    """A compiled event pattern; InvalidEventPattern for patterns EventBridge would refuse."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        if not isinstance(pattern, Mapping) or not pattern:
            raise InvalidEventPattern("An event pattern must be a non-empty JSON object.")
        self.pattern = pattern
        self._test = _compile_object(pattern, "")

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self._test(event)

    def __repr__(self) -> str:
        return f"EventPattern({self.pattern!r})"


def _compile_object(pattern: Mapping[str, Any], path: str) -> Callable[[Any], bool]:
    """A test over one object: every key of the pattern must hold."""
    tests: list[Callable[[Any], bool]] = []
    for key, condition in pattern.items():
        where = f"{path}.{key}" if path else key
        if not isinstance(key, str):
            raise InvalidEventPattern(f"{where}: keys must be strings.")
        if key == "$or":
            tests.append(_compile_or(condition, path or "$or", where))
        elif isinstance(condition, Mapping):
            if not condition:
                raise InvalidEventPattern(f"{where}: a nested pattern must not be empty.")
            tests.append(_nested(key, _compile_object(condition, where)))
        elif isinstance(condition, list):
            tests.append(_leaf(key, _compile_leaf(condition, where)))
        else:
            raise InvalidEventPattern(f"{where}: expected an array of values or a nested object.")

    def test(obj: Any) -> bool:
        return all(t(obj) for t in tests)

    return test


def _compile_or(alternatives: Any, path: str, where: str) -> Callable[[Any], bool]:
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        raise InvalidEventPattern(f"{where}: $or takes an array of at least two patterns.")
    compiled = []
    for i, alternative in enumerate(alternatives):
        if not isinstance(alternative, Mapping) or not alternative:
            raise InvalidEventPattern(
                f"{where}[{i}]: each $or alternative must be a non-empty object."
            )
        compiled.append(_compile_object(alternative, path))

    def test(obj: Any) -> bool:
        return any(t(obj) for t in compiled)

    return test


def _nested(key: str, sub_test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def test(obj: Any) -> bool:
        value = obj.get(key, _MISSING) if isinstance(obj, Mapping) else _MISSING
        if isinstance(value, list):
            objects = [v for v in value if isinstance(v, Mapping)]
            # An array of objects matches when one of its objects does.
            return any(sub_test(o) for o in objects) if objects else sub_test({})
        # Absent or a scalar: nothing lies below, so only {"exists": false} can hold there.
        return sub_test(value if isinstance(value, Mapping) else {})

    return test


def _leaf(key: str, leaf_test: Leaf) -> Callable[[Any], bool]:
    def test(obj: Any) -> bool:
        value = obj.get(key, _MISSING) if isinstance(obj, Mapping) else _MISSING
        return leaf_test(_leaf_values(value))

    return test


def _leaf_values(value: Any) -> list[Any]:
    """The scalar values at a field: none when absent, the elements when an array."""
    if value is _MISSING or isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        found: list[Any] = []
        for element in value:
            found.extend(_leaf_values(element))
        return found
    return [value]


def _compile_leaf(matchers: list[Any], where: str) -> Leaf:
    if not matchers:
        raise InvalidEventPattern(f"{where}: the array of values must not be empty.")
    exists_flags: list[bool] = []
    value_tests: list[ValueTest] = []
    for i, matcher in enumerate(matchers):
        at = f"{where}[{i}]"
        if isinstance(matcher, Mapping) and "exists" in matcher:
            if len(matcher) != 1 or not isinstance(matcher["exists"], bool):
                raise InvalidEventPattern(f"{at}: exists takes true or false.")
            exists_flags.append(matcher["exists"])
        else:
            value_tests.append(_compile_matcher(matcher, at))

    def test(values: list[Any]) -> bool:
        present = bool(values)
        if any(flag == present for flag in exists_flags):
            return True
        return any(t(v) for t in value_tests for v in values)

    return test


def _compile_matcher(matcher: Any, at: str) -> ValueTest:
    if not isinstance(matcher, Mapping):
        return _literal(matcher, at)
    if len(matcher) != 1:
        raise InvalidEventPattern(f"{at}: a matcher object has exactly one operator.")
    ((operator_name, argument),) = matcher.items()
    compilers: dict[str, Callable[[Any, str], ValueTest]] = {
        "prefix": _prefix,
        "suffix": _suffix,
        "equals-ignore-case": _equals_ignore_case,
        "wildcard": _wildcard,
        "numeric": _numeric,
        "cidr": _cidr,
        "anything-but": _anything_but,
    }
    compiler = compilers.get(operator_name)
    if compiler is None:
        raise InvalidEventPattern(f"{at}: unknown operator {operator_name!r}.")
    return compiler(argument, f"{at}.{operator_name}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal(expected: Any, at: str) -> ValueTest:
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v is expected
    if _is_number(expected):
        return lambda v: _is_number(v) and v == expected
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    raise InvalidEventPattern(
        f"{at}: {type(expected).__name__} is not a value a pattern can match."
    )


def _string_or_ignore_case(argument: Any, at: str) -> tuple[str, bool]:
    """`"abc"` or `{"equals-ignore-case": "abc"}` (prefix and suffix take either)."""
    if isinstance(argument, str):
        return argument, False
    if isinstance(argument, Mapping) and set(argument) == {"equals-ignore-case"}:
        value = argument["equals-ignore-case"]
        if isinstance(value, str):
            return value.casefold(), True
    raise InvalidEventPattern(f'{at}: expected a string or {{"equals-ignore-case": string}}.')


def _prefix(argument: Any, at: str) -> ValueTest:
    expected, ignore_case = _string_or_ignore_case(argument, at)
    if ignore_case:
        return lambda v: isinstance(v, str) and v.casefold().startswith(expected)
    return lambda v: isinstance(v, str) and v.startswith(expected)


def _suffix(argument: Any, at: str) -> ValueTest:
    expected, ignore_case = _string_or_ignore_case(argument, at)
    if ignore_case:
        return lambda v: isinstance(v, str) and v.casefold().endswith(expected)
    return lambda v: isinstance(v, str) and v.endswith(expected)


def _equals_ignore_case(argument: Any, at: str) -> ValueTest:
    if not isinstance(argument, str):
        raise InvalidEventPattern(f"{at}: expected a string.")
    expected = argument.casefold()
    return lambda v: isinstance(v, str) and v.casefold() == expected


def _wildcard(argument: Any, at: str) -> ValueTest:
    if not isinstance(argument, str):
        raise InvalidEventPattern(f"{at}: expected a string.")
    regex = _wildcard_regex(argument, at)
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _wildcard_regex(pattern: str, at: str) -> re.Pattern[str]:
    """`*` is any run of characters; `\\*` a literal star and `\\\\` a literal backslash."""
    parts: list[str] = []
    i = 0
    previous_was_star = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in "*\\":
                raise InvalidEventPattern(f"{at}: a backslash escapes only * or \\.")
            parts.append(re.escape(pattern[i + 1]))
            previous_was_star = False
            i += 2
            continue
        if char == "*":
            if previous_was_star:
                raise InvalidEventPattern(f"{at}: consecutive wildcard characters are not allowed.")
            parts.append(".*")
            previous_was_star = True
        else:
            parts.append(re.escape(char))
            previous_was_star = False
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _numeric(argument: Any, at: str) -> ValueTest:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        raise InvalidEventPattern(
            f'{at}: expected pairs of operator and number, e.g. [">", 0, "<=", 5].'
        )
    comparisons: list[tuple[Callable[[float, float], bool], float]] = []
    for i in range(0, len(argument), 2):
        name, bound = argument[i], argument[i + 1]
        if name not in _NUMERIC_OPERATORS:
            raise InvalidEventPattern(f"{at}[{i}]: unknown numeric operator {name!r}.")
        if not _is_number(bound):
            raise InvalidEventPattern(f"{at}[{i + 1}]: expected a number.")
        comparisons.append((_NUMERIC_OPERATORS[name], bound))
    if len(comparisons) > 2:
        raise InvalidEventPattern(f"{at}: at most a lower and an upper bound.")
    return lambda v: _is_number(v) and all(compare(v, bound) for compare, bound in comparisons)


def _cidr(argument: Any, at: str) -> ValueTest:
    if not isinstance(argument, str):
        raise InvalidEventPattern(f"{at}: expected a CIDR block string.")
    try:
        network = ipaddress.ip_network(argument, strict=False)
    except ValueError as exc:
        raise InvalidEventPattern(f"{at}: {argument!r} is not a CIDR block.") from exc

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return test


def _anything_but(argument: Any, at: str) -> ValueTest:
    if isinstance(argument, Mapping):
        if len(argument) != 1:
            raise InvalidEventPattern(
                f"{at}: takes one of prefix, suffix, equals-ignore-case, wildcard."
            )
        ((name, value),) = argument.items()
        if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise InvalidEventPattern(f"{at}: {name!r} cannot be negated.")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise InvalidEventPattern(f"{at}.{name}: expected a string or an array of strings.")
        if name == "wildcard":
            excluded = [_wildcard(v, f"{at}.{name}") for v in values]
        elif name == "equals-ignore-case":
            excluded = [_equals_ignore_case(v, f"{at}.{name}") for v in values]
        else:
            compile_one = _prefix if name == "prefix" else _suffix
            excluded = [compile_one(v, f"{at}.{name}") for v in values]
        # Values of another type cannot start with, end with or equal the excluded strings.
        return lambda v: not any(t(v) for t in excluded)
    values = argument if isinstance(argument, list) else [argument]
    if not values:
        raise InvalidEventPattern(f"{at}: expected a value or a non-empty array of values.")
    for i, value in enumerate(values):
        if not (isinstance(value, str) or _is_number(value)):
            raise InvalidEventPattern(f"{at}[{i}]: anything-but takes strings or numbers.")
    excluded_literals = [_literal(v, at) for v in values]
    return lambda v: not any(t(v) for t in excluded_literals)
