"""Typed mutation errors: one shared mapping from service exceptions onto `<Module>Error`.

Services raise Django's own exceptions: `ValidationError(message, code=<Module>ErrorCode.X)` (or a
dict of them keyed by input field), `PermissionDenied` and `ObjectDoesNotExist`. Mutations call
`mutate(Payload, action)`, which turns those into the payload's `errors` list; anything else is a
bug and surfaces as a masked GraphQL error.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    WithStrawberryObjectDefinition,
    get_object_definition,
    has_object_definition,
)

from events import camel_case

logger = logging.getLogger(__name__)

P = TypeVar("P")  # a mutation's payload class


# The descriptions every `<Module>Error` type and every payload's `errors` field share.
ERROR_FIELD = "The input field at fault (camelCase); null when the input as a whole is."
ERROR_MESSAGE = "What went wrong, for a person to read."
ERROR_CODE = "What went wrong, for a program to act on."
PAYLOAD_ERRORS = "Why nothing changed; empty when the mutation succeeded."


class ErrorCode(StrEnum):
    """Codes every module's `<Module>ErrorCode` enum also has."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"


def missing_common_codes(code_enum: type[Enum]) -> set[str]:
    return {code.value for code in ErrorCode} - {member.value for member in code_enum}


def _unwrap(field_type: Any) -> Any:
    while isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    return field_type


def payload_class_of(field_type: Any) -> type[WithStrawberryObjectDefinition] | None:
    """The field's return type when it is a mutation payload (an object with `errors`)."""
    field_type = _unwrap(field_type)
    if isinstance(field_type, type) and has_object_definition(field_type):
        names = {f.python_name for f in field_type.__strawberry_definition__.fields}
        if "errors" in names:
            return field_type
    return None


def error_class_of(payload_class: type) -> type:
    errors_field = next(
        f
        for f in get_object_definition(payload_class, strict=True).fields
        if f.python_name == "errors"
    )
    list_type = _unwrap(errors_field.type)
    assert isinstance(list_type, StrawberryList), f"{payload_class.__name__}.errors is not a list"
    error_class: type = _unwrap(list_type.of_type)
    return error_class


def code_enum_of(error_class: type) -> type[Enum]:
    code_enum: type[Enum] = typing.get_type_hints(error_class)["code"]
    return code_enum


def _error(error_class: type, code: str, message: str, field: str | None) -> Any:
    code_enum = code_enum_of(error_class)
    try:
        enum_code = code_enum(str(code))
    except ValueError:
        logger.error("Unmapped error code %r for %s", code, error_class.__name__)
        enum_code = code_enum(ErrorCode.INVALID)
    return error_class(field=field, message=message, code=enum_code)


def errors_from_exception(exc: Exception, error_class: type) -> list[Any]:
    if isinstance(exc, ValidationError):
        errors = []
        if hasattr(exc, "error_dict"):
            for field_name, field_errors in exc.error_dict.items():
                for error in field_errors:
                    message = error.message % error.params if error.params else error.message
                    errors.append(
                        _error(
                            error_class,
                            error.code or ErrorCode.INVALID,
                            str(message),
                            _camel(field_name),
                        )
                    )
        else:
            for error in exc.error_list:
                message = error.message % error.params if error.params else error.message
                errors.append(
                    _error(error_class, error.code or ErrorCode.INVALID, str(message), None)
                )
        return errors
    if isinstance(exc, PermissionDenied):
        return [_error(error_class, ErrorCode.FORBIDDEN, str(exc) or "Not allowed.", None)]
    if isinstance(exc, ObjectDoesNotExist):
        return [_error(error_class, ErrorCode.NOT_FOUND, str(exc) or "Not found.", None)]
    raise exc


def _camel(name: str) -> str | None:
    """The input field an error names; None for errors of the whole input."""
    return None if name in ("__all__", "") else camel_case(name)


def payload_with_error(
    payload_class: type[P], code: str, message: str, field: str | None = None
) -> P:
    build: Callable[..., P] = payload_class  # the strawberry type's own __init__
    return build(errors=[_error(error_class_of(payload_class), code, message, field)])


def mutate(
    payload_class: type[P], action: Callable[[], Any], *, result_field: str | None = None
) -> P:
    """Run a service call and wrap its result, or its expected failure, in `payload_class`.

    `action` returns the changed object (stored in the payload's one result field, or in
    `result_field`), a dict of payload fields, or None.
    """
    build: Callable[..., P] = payload_class  # the strawberry type's own __init__
    try:
        result = action()
    except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
        return build(errors=errors_from_exception(exc, error_class_of(payload_class)))
    except IntegrityError as exc:
        # A race lost against a unique constraint; the transaction was rolled back.
        logger.warning("Integrity error in %s: %s", payload_class.__name__, exc.__class__.__name__)
        return payload_with_error(
            payload_class, ErrorCode.INVALID, "Conflicting change; try again."
        )
    except DataError as exc:
        # The database refused a value the checks let through (schema/input_text.py refuses NUL
        # up front): the input's fault, not a bug. The message may quote the value: not logged.
        logger.warning(
            "Data error in %s: %s (SQLSTATE %s)",
            payload_class.__name__,
            exc.__class__.__name__,
            getattr(exc.__cause__, "sqlstate", None) or "unknown",
        )
        return payload_with_error(payload_class, ErrorCode.INVALID, "Invalid value.")
    if isinstance(result, dict):
        return build(**result, errors=[])
    if result is None:
        return build(errors=[])
    if result_field is None:
        names = [
            f.python_name
            for f in get_object_definition(payload_class, strict=True).fields
            if f.python_name != "errors"
        ]
        assert len(names) == 1, f"{payload_class.__name__}: pass result_field"
        result_field = names[0]
    return build(**{result_field: result}, errors=[])
