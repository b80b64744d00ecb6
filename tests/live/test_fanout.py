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


def numbered(item: dict, seq: int, publisher: str = "relay-1") -> dict:
    return {"type": fanout.EVENT_MESSAGE, "envelope": item, "publisher": publisher, "seq": seq}


async def test_events_lost_on_the_way_reach_every_subscriber_as_a_notice_naming_the_last_kept():
    watcher = fanout.Subscription(lambda item: True, buffer_size=10)
    status = fanout.Subscription(lambda item: True, buffer_size=1, keep_latest_only=True)
    hub = fanout.hub()
    hub.subscriptions.update({watcher, status})
    first, second, fifth = envelope(n=1), envelope(n=2), envelope(n=5)
    for seq, item in ((1, first), (2, second)):
        hub.deliver(numbered(item, seq))
    assert await next_envelope(watcher) == first
    assert await next_envelope(watcher) == second
    hub.deliver(numbered(fifth, 5))  # 3 and 4 never arrived
    notice = await watcher.next()
    assert notice == fanout.Dropped(2, after=second["detail"]["eventId"], exact=False)
    assert await next_envelope(watcher) == fifth
    assert hub.lost == 2
    # A latest-only watcher just looks again: the newest item, no notice.
    assert await next_envelope(status) == fifth


async def test_numbers_in_order_or_from_another_publisher_are_no_gap():
    watcher = fanout.Subscription(lambda item: True, buffer_size=10)
    hub = fanout.hub()
    hub.subscriptions.add(watcher)
    for message in (
        numbered(envelope(), 7),  # first heard of: no telling what came before
        numbered(envelope(), 8),
        numbered(envelope(), 1, publisher="relay-2"),
        numbered(envelope(), 9),
    ):
        hub.deliver(message)
    received = [await watcher.next() for _ in range(4)]
    assert all(isinstance(item, dict) for item in received)
    assert (hub.lost, watcher.pending, watcher.dropped_total) == (0, 0, 0)


async def test_publishing_never_waits_and_a_full_queue_ends_in_a_notice(settings, monkeypatch):
    settings.LIVE_PUBLISH_QUEUE_SIZE = 3
    monkeypatch.setattr(fanout, "publisher", fanout.LivePublisher())
    async with fanout.subscription(lambda item: isinstance(item, dict), buffer_size=50) as watcher:
        warm = envelope(n=0)
        fanout.publish(warm)
        assert await asyncio.wait_for(watcher.next(), 10) == warm
        # Up to the queue's size, queued without the sender running: all arrive, no notice.
        fitting = [envelope(n=n) for n in range(1, 4)]
        for item in fitting:
            fanout.publish(item)
        assert [await asyncio.wait_for(watcher.next(), 10) for _ in fitting] == fitting
        # One more than fits: the oldest goes, and the subscriber hears of it.
        burst = [envelope(n=n) for n in range(4, 8)]
        for item in burst:
            fanout.publish(item)
        notice = await asyncio.wait_for(watcher.next(), 10)
        assert notice == fanout.Dropped(1, after=fitting[-1]["detail"]["eventId"], exact=False)
        assert [await asyncio.wait_for(watcher.next(), 10) for _ in burst[1:]] == burst[1:]
    assert fanout.publisher.stats.overflowed == 1
