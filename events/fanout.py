"""Live fan-out: delivered events reach the subscriptions of every server process.

The relay calls `publish(envelope)` once per delivered event. It goes once to the channel layer
group "majestic.events" (Redis pub/sub between processes; the in-memory layer within one process).
In each server process a single `EventHub` is the group's only member: it receives every event
once and hands it to that process's subscriptions without ever waiting for one of them.

Overflow policy: a subscription buffers at most `LIVE_SUBSCRIPTION_BUFFER` items. When a slow or
stuck client lets its buffer fill up, the oldest item is dropped; the subscriber gets a `Dropped`
notice (how many it missed) before the next item it reads. A subscription that only cares about
the latest state (`keep_latest_only=True`, e.g. systemStatus) just keeps the newest item.

Publishing never waits (`LivePublisher`): a bounded queue, one sender per process, a timeout per
message. Each event message is numbered by its publisher; a hub that sees a number skipped (a
message failed, timed out, overflowed the queue, or Redis lost it) counts and logs the loss and
gives every subscriber a `Dropped` notice (`exact=False`) naming the last event it had, from
which `domainEvents(after:)` replays the gap out of the outbox.

`publish_status_changed()` tells systemStatus subscribers to look again (after a heartbeat, or when
events turn dead), on every process.

`publish_access_changed(user_uuid=…, api_key_name=…)` tells every process's websocket connections
that this user's or key's access changed (banned, demoted, signed out, revoked): the connections
acting for them check their credentials again at once, rather than at their next periodic check.
It names whom, never a secret. Connections hear it through `EventHub.watch_access`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from events.catalog import for_live_subscribers

logger = logging.getLogger("majestic.live")

GROUP = "majestic.events"
EVENT_MESSAGE = "majestic.event"
STATUS_MESSAGE = "majestic.status"
ACCESS_MESSAGE = "majestic.access"
# The in-memory layer forgets group members after a day; the hub re-joins well before that.
GROUP_REFRESH_SECONDS = 600.0
# Publishers whose last sequence number a hub remembers (processes come and go).
KNOWN_PUBLISHERS = 1000


@dataclass(frozen=True)
class Dropped:
    """Notice that `count` items were dropped: the subscriber fell behind, or (`exact` False) up
    to `count` events were lost on the way, some perhaps not for this subscriber. `after` is the
    last event this subscriber was given before the gap (None: none yet); replaying from it
    (domainEvents(after:)) fills the gap, perhaps repeating a few events it already has."""

    count: int
    after: str | None = None
    exact: bool = True


@dataclass(frozen=True)
class Gap:
    """Up to `count` events went missing between a publisher and this hub (by sequence numbers)."""

    count: int


@dataclass(frozen=True)
class StatusChanged:
    """Something that systemStatus reports may have changed (heartbeat, dead events)."""


STATUS_CHANGED = StatusChanged()
Item = dict[str, Any] | StatusChanged


@dataclass(frozen=True)
class AccessChanged:
    """The access of this user (uuid as text) or API key (by name) changed; either may be None."""

    user_uuid: str | None = None
    api_key_name: str | None = None


AccessWatcher = Callable[[AccessChanged], None]


# --- publishing (any thread, any process) --------------------------------------------------------


@dataclass
class PublishStats:
    """What this process's publisher did with live messages (systemStatus-style counters)."""

    queued: int = 0
    sent: int = 0  # the channel layer confirmed them
    unconfirmed: int = 0  # failed or timed out: they may still arrive (subscribers tell by `seq`)
    overflowed: int = 0  # the queue was full: never sent, so surely lost


class LivePublisher:
    """Hands live messages to the channel layer without ever making the caller wait.

    `publish` (the relay's thread, a request's thread, or a loop) only appends to a bounded queue;
    one sender task per process sends them in order, each within LIVE_PUBLISH_TIMEOUT_SECONDS. A
    frozen Redis so slows the live layer alone: the relay goes on delivering to the bus. When the
    queue is full the oldest message goes (counted and logged). Each event message carries this
    publisher's id and a sequence number, so a hub can tell that events went missing on the way
    (failed, timed out, overflowed, or dropped by Redis) and warn its subscribers of the gap.
    """

    def __init__(self) -> None:
        self.publisher_id = uuid.uuid4().hex
        self.stats = PublishStats()
        self._lock = threading.Lock()
        self._queue: deque[dict[str, Any]] = deque()
        self._sequence = 0
        self._sender_loop: asyncio.AbstractEventLoop | None = None  # where the sender runs now

    def publish(self, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        target = _target_loop(layer)
        with self._lock:
            if message.get("type") == EVENT_MESSAGE:
                self._sequence += 1
                message = {**message, "publisher": self.publisher_id, "seq": self._sequence}
            if target is None:
                return  # nobody can hear it; the sequence still moved, as for any lost message
            if len(self._queue) >= max(1, settings.LIVE_PUBLISH_QUEUE_SIZE):
                lost = self._queue.popleft()
                self.stats.overflowed += 1
                logger.warning(
                    "Live publish queue full (%d): dropped a %s message",
                    settings.LIVE_PUBLISH_QUEUE_SIZE,
                    lost.get("type"),
                )
            self._queue.append(message)
            self.stats.queued += 1
            start = self._sender_loop is not target or target.is_closed()
            if start:
                self._sender_loop = target
        if start:
            target.call_soon_threadsafe(self._start_sender, layer)

    @property
    def backlog(self) -> int:
        return len(self._queue)

    def _start_sender(self, layer: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._send_all(layer))
        _background.add(task)
        task.add_done_callback(_forget_and_log)

    async def _send_all(self, layer: Any) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._sender_loop is not loop:
                    return  # a newer sender took over (tests run several loops in turn)
                if not self._queue:
                    self._sender_loop = None
                    return
                message = self._queue.popleft()
            try:
                await asyncio.wait_for(
                    layer.group_send(GROUP, message), timeout=settings.LIVE_PUBLISH_TIMEOUT_SECONDS
                )
            except Exception as exc:  # best effort: the event already reached its destination
                self.stats.unconfirmed += 1
                logger.warning(
                    "The channel layer did not confirm a live %s message (seq %s) within %ss: %s; "
                    "hubs that miss it tell their subscribers",
                    message.get("type"),
                    message.get("seq", "-"),
                    settings.LIVE_PUBLISH_TIMEOUT_SECONDS,
                    type(exc).__name__,
                )
            else:
                self.stats.sent += 1


def _target_loop(layer: Any) -> asyncio.AbstractEventLoop | None:
    """The loop that talks to the layer: the hub's when this process listens (the in-memory
    layer's queues belong to it), else a loop of the publisher's own; None when nobody hears."""
    hub = _hub
    if hub is not None and hub.is_listening:
        return hub.loop
    if isinstance(layer, InMemoryChannelLayer):
        return None  # nobody in this process listens, and an in-memory layer reaches no other one
    return _publisher_loop()


publisher = LivePublisher()


def publish(envelope: dict[str, Any]) -> None:
    """Queue one delivered event (`{"source", "detailType", "detail"}`) for live subscribers.

    It never waits and never raises for the live layer: the relay has already delivered the event
    to its real destination. The event's sensitive fields stay behind (they are for the bus and
    its functions): they never reach the channel layer, Redis, or a subscriber.
    """
    publisher.publish({"type": EVENT_MESSAGE, "envelope": for_live_subscribers(envelope)})


def publish_status_changed() -> None:
    """Ask every process's systemStatus subscribers to read the status again."""
    publisher.publish({"type": STATUS_MESSAGE})


def publish_access_changed(*, user_uuid: Any = None, api_key_name: str | None = None) -> None:
    """Ask every process's connections acting for this user or key to check their credentials."""
    if user_uuid is None and api_key_name is None:
        return
    publisher.publish(
        {
            "type": ACCESS_MESSAGE,
            "user_uuid": None if user_uuid is None else str(user_uuid),
            "api_key_name": api_key_name,
        }
    )


# Sender tasks, kept referenced while they run.
_background: set[asyncio.Future[Any]] = set()


def _forget_and_log(future: asyncio.Future[Any]) -> None:
    _background.discard(future)
    if not future.cancelled() and future.exception() is not None:
        logger.error("The live publisher failed", exc_info=future.exception())


_publisher: asyncio.AbstractEventLoop | None = None
_publisher_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """A loop of its own for processes without subscribers (relay workers): one Redis connection."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-publisher", daemon=True).start()
            _publisher = loop
        return _publisher


# --- subscribing (server processes) --------------------------------------------------------------


class Subscription:
    """One subscriber's bounded buffer; the hub offers items, the subscriber reads them."""

    def __init__(
        self, accepts: Callable[[Item], bool], *, buffer_size: int, keep_latest_only: bool = False
    ) -> None:
        self.accepts = accepts
        self.buffer_size = max(1, buffer_size)
        self.keep_latest_only = keep_latest_only
        self.dropped_total = 0
        self.last_event_id: str | None = None  # of the last event handed to the subscriber
        self._buffer: deque[Item] = deque()
        self._dropped = 0
        self._exact = True  # False once a gap of events of unknown kinds joins the dropped count
        self._ready = asyncio.Event()

    def offer(self, item: Item) -> None:
        """Buffer `item` if this subscriber wants it. Never blocks, never raises."""
        try:
            if not self.accepts(item):
                return
        except Exception:  # a broken filter must not stop delivery to the others
            logger.exception("Subscription filter failed")
            return
        if len(self._buffer) >= self.buffer_size:
            self._buffer.popleft()
            if not self.keep_latest_only:
                self._dropped += 1
                self.dropped_total += 1
        self._buffer.append(item)
        self._ready.set()

    def offer_gap(self, gap: Gap) -> None:
        """Note that up to `gap.count` events were lost before the next one; never blocks."""
        if self.keep_latest_only:
            self.offer(STATUS_CHANGED)  # the latest state is read afresh: that is the whole gap
            return
        self._dropped += gap.count
        self.dropped_total += gap.count
        self._exact = False
        self._ready.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def next(self) -> Item | Dropped:
        while not self._buffer and not self._dropped:
            self._ready.clear()
            await self._ready.wait()
        if self._dropped:
            notice = Dropped(self._dropped, after=self.last_event_id, exact=self._exact)
            self._dropped, self._exact = 0, True
            return notice
        item = self._buffer.popleft()
        if isinstance(item, dict):
            event_id = (item.get("detail") or {}).get("eventId")
            self.last_event_id = str(event_id) if event_id else self.last_event_id
        return item

    def __aiter__(self) -> AsyncIterator[Item | Dropped]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Item | Dropped]:
        while True:
            yield await self.next()


class EventHub:
    """This process's one member of the live group, fanning each message out to local subscribers.

    It joins the group when the first subscription (or access watcher) starts and leaves when the
    last one ends, so a process without either holds no group membership (and no Redis
    subscription).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.subscriptions: set[Subscription] = set()
        # Connections with credentials, told when access changes (kept apart from subscriptions:
        # these notices are no items for subscription filters, and count for no systemStatus).
        self.access_watchers: set[AccessWatcher] = set()
        self.changes = 0  # how many messages arrived so far; systemStatus compares snapshots by it
        self.lost = 0  # events that sequence numbers show never arrived
        # publisher id -> the highest sequence number heard from it (recent publishers only)
        self._last_seq: OrderedDict[str, int] = OrderedDict()
        self._lock = asyncio.Lock()
        self._layer: Any = None
        self._channel: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def is_listening(self) -> bool:
        return self._channel is not None and not self.loop.is_closed()

    @property
    def channel_name(self) -> str | None:
        return self._channel

    async def join(self, subscription: Subscription) -> None:
        async with self._lock:
            if self._channel is None:
                await self._start()
            self.subscriptions.add(subscription)

    async def leave(self, subscription: Subscription) -> None:
        async with self._lock:
            self.subscriptions.discard(subscription)
            await self._stop_when_unused()

    async def watch_access(self, watcher: AccessWatcher) -> None:
        """Call `watcher(notice)` (on this loop; it must not block) for every AccessChanged."""
        async with self._lock:
            if self._channel is None:
                await self._start()
            self.access_watchers.add(watcher)

    async def unwatch_access(self, watcher: AccessWatcher) -> None:
        async with self._lock:
            self.access_watchers.discard(watcher)
            await self._stop_when_unused()

    async def _stop_when_unused(self) -> None:
        if not self.subscriptions and not self.access_watchers and self._channel is not None:
            await self._stop()

    def deliver(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == ACCESS_MESSAGE:
            self._deliver_access(message)
            return
        if kind == EVENT_MESSAGE and isinstance(message.get("envelope"), dict):
            item: Item = message["envelope"]
        elif kind == STATUS_MESSAGE:
            item = STATUS_CHANGED
        else:
            logger.warning("Ignoring a live message of unknown type %r", kind)
            return
        self.changes += 1
        gap = self._gap_before(message) if kind == EVENT_MESSAGE else 0
        for subscription in list(self.subscriptions):
            if gap:
                subscription.offer_gap(Gap(gap))
            subscription.offer(item)

    def _gap_before(self, message: dict[str, Any]) -> int:
        """How many of this publisher's events never arrived before this one (0 when in order)."""
        publisher_id, seq = message.get("publisher"), message.get("seq")
        if not isinstance(publisher_id, str) or not isinstance(seq, int):
            return 0
        last = self._last_seq.get(publisher_id)
        if last is None or seq > last:
            self._last_seq[publisher_id] = seq
            self._last_seq.move_to_end(publisher_id)
            while len(self._last_seq) > KNOWN_PUBLISHERS:
                self._last_seq.popitem(last=False)
        if last is None or seq <= last + 1:
            return 0  # first heard of, in order, or a late one already counted as missing
        missing = seq - last - 1
        self.lost += missing
        logger.warning(
            "%d live event(s) from publisher %s never arrived (seq %d to %d); subscribers told",
            missing,
            publisher_id,
            last + 1,
            seq - 1,
        )
        return missing

    def _deliver_access(self, message: dict[str, Any]) -> None:
        user_uuid, api_key_name = message.get("user_uuid"), message.get("api_key_name")
        notice = AccessChanged(
            user_uuid=user_uuid if isinstance(user_uuid, str) else None,
            api_key_name=api_key_name if isinstance(api_key_name, str) else None,
        )
        for watcher in list(self.access_watchers):
            try:
                watcher(notice)
            except Exception:  # one broken watcher must not keep the notice from the others
                logger.exception("Access watcher failed")

    async def _start(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("Live subscriptions need CHANNEL_LAYERS to be configured.")
        self._last_seq.clear()  # what was published while nobody listened is no gap
        channel = await layer.new_channel(prefix="majestic.hub.")  # type: ignore[call-arg]  # the in-memory and Redis layers take one
        await layer.group_add(GROUP, channel)
        self._layer, self._channel = layer, channel
        self._tasks = [
            self.loop.create_task(self._receive(layer, channel)),
            self.loop.create_task(self._stay_in_group(layer, channel)),
        ]

    async def _stop(self) -> None:
        layer, channel, tasks = self._layer, self._channel, self._tasks
        self._layer, self._channel, self._tasks = None, None, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await layer.group_discard(GROUP, channel)

    async def _receive(self, layer: Any, channel: str) -> None:
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. Redis went away: keep trying, subscribers just wait
                logger.exception("Live hub could not receive; retrying")
                await asyncio.sleep(1)
                continue
            self.deliver(message)

    async def _stay_in_group(self, layer: Any, channel: str) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            with contextlib.suppress(Exception):
                await layer.group_add(GROUP, channel)


_hub: EventHub | None = None


def hub() -> EventHub:
    """The running loop's hub (one per server process; tests may run several loops in turn)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = EventHub(loop)
    return _hub


@contextlib.asynccontextmanager
async def subscription(
    accepts: Callable[[Item], bool],
    *,
    buffer_size: int | None = None,
    keep_latest_only: bool = False,
) -> AsyncIterator[Subscription]:
    """Receive the live items `accepts` wants while the block runs; leaves the hub on exit."""
    size = settings.LIVE_SUBSCRIPTION_BUFFER if buffer_size is None else buffer_size
    live = Subscription(accepts, buffer_size=size, keep_latest_only=keep_latest_only)
    current = hub()
    await current.join(live)
    try:
        yield live
    finally:
        await asyncio.shield(current.leave(live))
