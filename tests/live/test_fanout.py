"""The live hub in one process: bounded buffers, group membership, publishing from threads."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer

from events import fanout


@pytest.fixture(autouse=True)
def fresh_hub():
    fanout._hub = None
    yield
    fanout._hub = None


async def next_envelope(subscription: fanout.Subscription) -> dict:
    item = await subscription.next()
    assert isinstance(item, dict), item
    return item


def envelope(detail_type: str = "Tested", n: int = 0) -> dict:
    return {
        "source": "majestic.test",
        "detailType": detail_type,
        "detail": {
            "eventId": str(uuid.uuid4()),
            "occurredAt": "2026-01-01T00:00:00Z",
            "data": {"n": n},
        },
    }


async def test_a_full_buffer_drops_the_oldest_and_tells_how_many_were_missed():
    subscription = fanout.Subscription(lambda item: True, buffer_size=3)
    for n in range(5):
        subscription.offer(envelope(n=n))
    assert await subscription.next() == fanout.Dropped(2)
    received = [(await next_envelope(subscription))["detail"]["data"]["n"] for _ in range(3)]
    assert received == [2, 3, 4]


async def test_a_latest_only_subscription_keeps_the_newest_item_without_a_notice():
    subscription = fanout.Subscription(lambda item: True, buffer_size=1, keep_latest_only=True)
    for n in range(5):
        subscription.offer(envelope(n=n))
    assert (await next_envelope(subscription))["detail"]["data"]["n"] == 4
    assert subscription.pending == 0


async def test_a_filter_that_raises_does_not_stop_delivery():
    broken = fanout.Subscription(lambda item: bool(1 / 0), buffer_size=3)
    fine = fanout.Subscription(lambda item: True, buffer_size=3)
    hub = fanout.hub()
    hub.subscriptions.update({broken, fine})
    hub.deliver({"type": fanout.EVENT_MESSAGE, "envelope": envelope()})
    assert fine.pending == 1
    assert broken.pending == 0


async def test_the_hub_is_in_the_group_only_while_someone_subscribes():
    layer = get_channel_layer()
    async with fanout.subscription(lambda item: True):
        hub = fanout.hub()
        channel = hub.channel_name
        assert channel is not None
        if isinstance(layer, InMemoryChannelLayer):
            assert channel in layer.groups[fanout.GROUP]
        async with fanout.subscription(lambda item: True):
            assert hub.channel_name == channel  # one membership per process, however many subscribe
    assert hub.channel_name is None
    assert hub.subscriptions == set()
    if isinstance(layer, InMemoryChannelLayer):
        assert channel not in layer.groups.get(fanout.GROUP, {})


async def test_an_event_published_from_a_worker_thread_reaches_subscribers_on_the_loop():
    sent = envelope("FromThread")
    async with fanout.subscription(lambda item: isinstance(item, dict)) as subscription:
        await asyncio.to_thread(fanout.publish, sent)  # the relay publishes from its own thread
        assert await asyncio.wait_for(subscription.next(), 10) == sent


async def test_a_status_change_reaches_status_watchers():
    async with fanout.subscription(lambda item: item is fanout.STATUS_CHANGED) as subscription:
        await asyncio.to_thread(fanout.publish_status_changed)
        assert await asyncio.wait_for(subscription.next(), 10) is fanout.STATUS_CHANGED


async def test_a_stuck_subscriber_never_holds_up_another():
    stuck = fanout.Subscription(lambda item: True, buffer_size=10)
    reader = fanout.Subscription(lambda item: True, buffer_size=10)
    hub = fanout.hub()
    hub.subscriptions.update({stuck, reader})
    received = []
    for n in range(1000):  # delivering never waits for a reader
        hub.deliver({"type": fanout.EVENT_MESSAGE, "envelope": envelope(n=n)})
        received.append((await next_envelope(reader))["detail"]["data"]["n"])
    assert received == list(range(1000))
    assert stuck.pending == 10
    assert stuck.dropped_total == 990


async def test_access_changes_reach_watchers_not_subscriptions():
    heard: list[fanout.AccessChanged] = []
    async with fanout.subscription(lambda item: True) as subscription:
        hub = fanout.hub()
        await hub.watch_access(heard.append)
        changes = hub.changes
        await asyncio.to_thread(fanout.publish_access_changed, user_uuid=uuid.UUID(int=7))
        await asyncio.to_thread(fanout.publish_access_changed, api_key_name="robot")
        for _ in range(100):
            if len(heard) == 2:
                break
            await asyncio.sleep(0.05)
        await hub.unwatch_access(heard.append)
        assert heard == [
            fanout.AccessChanged(user_uuid=str(uuid.UUID(int=7))),
            fanout.AccessChanged(api_key_name="robot"),
        ]
        # Neither an item for subscription filters nor a change systemStatus should look at.
        assert subscription.pending == 0 and hub.changes == changes


async def test_the_hub_stays_in_the_group_while_a_connection_watches_access():
    def watcher(notice: fanout.AccessChanged) -> None:
        pass

    hub = fanout.hub()
    await hub.watch_access(watcher)
    async with fanout.subscription(lambda item: True):
        channel = hub.channel_name
    assert hub.channel_name == channel is not None  # the last subscription left; a watcher stays
    await hub.unwatch_access(watcher)
    assert hub.channel_name is None


async def test_a_watcher_that_raises_does_not_keep_the_notice_from_the_others():
    heard: list[fanout.AccessChanged] = []

    def broken(notice: fanout.AccessChanged) -> None:
        raise RuntimeError("broken watcher")

    hub = fanout.hub()
    hub.access_watchers.update({broken, heard.append})
    hub.deliver({"type": fanout.ACCESS_MESSAGE, "user_uuid": "u", "api_key_name": None})
    assert heard == [fanout.AccessChanged(user_uuid="u")]
