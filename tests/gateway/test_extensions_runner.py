"""The schema's extensions runner (schema/kit/live.py): each result's hooks found once per
operation, the same hooks and the same results as Strawberry's own runner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.kit.live import PerResultExtensionsRunner
from schema.root import schema


class Reporting(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        return {"reporting": 1}

    def on_stream_result(self, result: Any) -> Iterator[None]:
        result.extensions = {**(result.extensions or {}), "seen": True}
        yield


class ReportingAsync(SchemaExtension):
    async def get_results(self) -> dict[str, Any]:
        return {"reportingAsync": 2}


def a_context() -> ExecutionContext:
    return ExecutionContext(
        query="{ __typename }", schema=schema, allowed_operations=frozenset({OperationType.QUERY})
    )


def runners(*more: SchemaExtension) -> tuple[SchemaExtensionsRunner, SchemaExtensionsRunner]:
    """Strawberry's runner and ours, over the same extension instances of one request."""
    extensions = [*schema.get_extensions(), *more]
    context = a_context()
    context.extensions_results = {"fromContext": 3}
    return (
        SchemaExtensionsRunner(execution_context=context, extensions=extensions),
        PerResultExtensionsRunner(execution_context=context, extensions=extensions),
    )


def test_the_schema_runs_its_operations_with_our_runner():
    context = a_context()
    assert isinstance(schema.create_extensions_runner(context, []), PerResultExtensionsRunner)


async def test_the_same_extension_results_as_strawberrys_runner():
    instance_level = SchemaExtension()
    instance_level.get_results = lambda: {"instance": 4}  # type: ignore[method-assign]
    theirs, ours = runners(Reporting(), ReportingAsync(), instance_level)
    expected = await theirs.get_extensions_results(theirs.execution_context)
    assert expected == {"reporting": 1, "reportingAsync": 2, "instance": 4, "fromContext": 3}
    assert await ours.get_extensions_results(ours.execution_context) == expected
    assert list(await ours.get_extensions_results(ours.execution_context)) == list(expected)


async def test_the_same_stream_result_hooks_in_the_same_order():
    theirs, ours = runners(Reporting())
    result = ExecutionResult(data={"a": 1}, errors=None)
    hooked = [hook.extension for hook in theirs.on_stream_result(result).hooks]
    assert [hook.extension for hook in ours.on_stream_result(result).hooks] == hooked
    assert [type(extension).__name__ for extension in hooked] == [
        "MaskUnexpectedErrors",
        "Reporting",
    ]
    async with ours.on_stream_result(result):
        pass
    assert result.extensions == {"seen": True}
