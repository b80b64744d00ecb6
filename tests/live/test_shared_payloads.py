"""One event, many subscribers of one document: executed once, its data encoded once, and every
subscriber's `next` message written exactly as Strawberry would write it (schema/kit/live.py)."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import uuid
from typing import Any

import pytest
from graphql.execution.executor import Executor

from events import fanout
from modules.auth.api import Principal
from modules.ops.graphql import subscriptions
from schema.kit import live
from schema.kit.context import Context
from schema.root import schema
from schema.transports.websocket import GraphQLWebSocketConsumer, _shared_next_message

DOCUMENT = 'subscription { domainEvents(detailTypes: ["Shared"]) { eventId detailType detail } }'
WATCHER = Principal(api_key_name="watcher", scopes=frozenset({"EVENTS"}))


@pytest.fixture(autouse=True)
def fresh_hub():
    fanout._hub = None
    yield
    fanout._hub = None


def envelope(n: int) -> dict[str, Any]:
    return {
        "source": "majestic.test",
        "detailType": "Shared",
        "detail": {
            "eventId": str(uuid.uuid4()),
            "occurredAt": "2026-01-01T00:00:00+00:00",
            "data": {"n": n, "text": 'é\u2028"quoted"'},
        },
    }


def strawberry_encoding(message: object) -> str:
    """What Strawberry's views write for a message (strawberry.http.base.BaseView.encode_json)."""
    return json.dumps(message, separators=(",", ":"))


async def next_results(subscribers: int, *envelopes: dict[str, Any]) -> list[list[Any]]:
    """Each subscriber's results for `envelopes`, delivered through the process's hub."""
    context = Context(principal=WATCHER, correlation_id="test", client_address="127.0.0.1")
    streams = [await schema.stream(DOCUMENT, context_value=context) for _ in range(subscribers)]
    results: list[list[Any]] = [[] for _ in streams]

    async def read(index: int) -> None:
        for _ in envelopes:
            results[index].append(await anext(streams[index]))

    readers = [asyncio.create_task(read(i)) for i in range(subscribers)]
    while len(fanout.hub().subscriptions) < subscribers:
        await asyncio.sleep(0.01)
    for each in envelopes:
        fanout.hub().deliver({"type": fanout.EVENT_MESSAGE, "envelope": each})
    await asyncio.wait_for(asyncio.gather(*readers), timeout=10)
    for stream in streams:
        await stream.aclose()
    return results


async def test_subscribers_of_one_document_share_each_events_data(db):
    first, second = envelope(1), envelope(2)
    results = await next_results(3, first, second)
    for number, sent in enumerate((first, second)):
        data = [each[number].data for each in results]
        assert data[0] == {
            "domainEvents": {
                "eventId": sent["detail"]["eventId"],
                "detailType": "Shared",
                "detail": sent["detail"],
            }
        }
        assert all(d is data[0] for d in data)  # one execution, shared
        assert not any(each[number].errors for each in results)
    assert results[0][0].data is not results[0][1].data  # each event its own


async def test_a_shared_next_message_is_written_as_strawberry_writes_it(db):
    (result,) = (await next_results(1, envelope(3)))[0]
    consumer = GraphQLWebSocketConsumer()
    encoded_data: list[object] = []

    def encode(value: object) -> str:
        encoded_data.append(value)
        return strawberry_encoding(value)

    messages = [
        {"id": operation_id, "type": "next", "payload": {"data": result.data}}
        for operation_id in ("1", 'an "odd" id é')
    ]
    for message in messages:
        assert _shared_next_message(message, encode) == strawberry_encoding(message)
    # The data once, for both messages; then only their ids.
    assert [value for value in encoded_data if value is result.data] == [result.data]
    for message in messages:
        assert consumer.encode_json(message) == strawberry_encoding(message)


async def test_other_messages_are_left_to_the_ordinary_encoding(db):
    (result,) = (await next_results(1, envelope(4)))[0]
    equal_copy = json.loads(json.dumps(result.data))
    others: list[Any] = [
        {"id": "1", "type": "next", "payload": {"data": equal_copy}},  # not the shared object
        {"id": "1", "type": "next", "payload": {"data": result.data, "errors": []}},
        {"id": "1", "type": "next", "payload": {"data": result.data, "extensions": {"a": 1}}},
        {"type": "next", "id": "1", "payload": {"data": result.data}},  # another key order
        {"id": 1, "type": "next", "payload": {"data": result.data}},
        {"id": "1", "type": "complete"},
        [result.data],
    ]
    consumer = GraphQLWebSocketConsumer()
    for message in others:
        assert _shared_next_message(message, strawberry_encoding) is None
        assert consumer.encode_json(message) == strawberry_encoding(message)


async def test_a_live_envelope_becomes_one_domain_event_for_all_its_subscribers():
    sent = envelope(5)
    made = subscriptions._live_domain_event(sent)
    assert subscriptions._live_domain_event(sent) is made
    equal = json.loads(json.dumps(sent))  # another envelope object: another event
    assert subscriptions._live_domain_event(equal) is not made
    assert subscriptions._live_domain_event(equal) == made


async def test_results_are_shared_for_recent_events_only(db, monkeypatch):
    monkeypatch.setattr(live, "SHARED_RESULTS_KEPT", 2)
    (oldest, middle, newest) = (await next_results(1, envelope(6), envelope(7), envelope(8)))[0]
    assert live.shared_data_json(oldest.data, strawberry_encoding) is None  # forgotten
    for kept in (middle, newest):
        assert live.shared_data_json(kept.data, strawberry_encoding) == strawberry_encoding(
            kept.data
        )
    assert len(live._shared_results) == len(live._shared_by_data) == 2


def test_an_executor_copies_as_copy_copy_would_without_its_detour():
    executor_class = schema.execution_context_class
    # __copy__ copies __dict__ only: slots anywhere in the classes would be left behind.
    assert all(not getattr(each, "__slots__", ()) for each in executor_class.__mro__)
    # graphql-core still makes each event's executor with copy() (build_per_event_executor).
    assert "executor = copy(self)" in inspect.getsource(Executor.build_per_event_executor)
    executor = object.__new__(executor_class)
    executor.__dict__.update(root_value="source", operation=object(), collected=[1])
    clone = copy.copy(executor)
    assert type(clone) is executor_class
    assert clone.__dict__ == executor.__dict__
    assert clone.__dict__ is not executor.__dict__
    clone.root_value = "event"
    assert executor.root_value == "source"
