"""Live fan-out: delivered events reach the subscriptions of every server process.

The relay calls `publish(envelope)` once per delivered event. It goes once to the channel layer
group "majestic.events" (Redis pub/sub between processes; the in-memory layer within one process).
In each server process a single `EventHub` is the group's only member: it receives every event
once and hands it to that process's subscriptions without ever waiting for one of them.

Overflow policy: a subscription buffers at most `LIVE_SUBSCRIPTION_BUFFER` items. When a slow or
stuck client lets its buffer fill up, the oldest item is dropped; the subscriber gets a `Dropped`
notice (how many it missed) before the next item it reads. A subscription that only cares about
the latest state (`keep_latest_only=True`, e.g. systemStatus) just keeps the newest item.

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
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from events.catalog import for_live_subscribers

if TYPE_CHECKING:
    import concurrent.futures

logger = logging.getLogger("majestic.live")

GROUP = "majestic.events"
EVENT_MESSAGE = "majestic.event"
STATUS_MESSAGE = "majestic.status"
ACCESS_MESSAGE = "majestic.access"
# How long the relay waits for the channel layer before it gives up on one live message.
PUBLISH_TIMEOUT_SECONDS = 5.0
# The in-memory layer forgets group members after a day; the hub re-joins well before that.
GROUP_REFRESH_SECONDS = 600.0


@dataclass(frozen=True)
class Dropped:
    """Notice that `count` items were dropped because the subscriber fell behind."""

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


def publish(envelope: dict[str, Any]) -> None:
    """Send one delivered event (`{"source", "detailType", "detail"}`) to live subscribers.

    Live delivery is best effort: a failure is logged and never fails the relay, which has already
    delivered the event to its real destination. The event's sensitive fields stay behind (they
    are for the bus and its functions): they never reach the channel layer, Redis, or a subscriber.
    """
    _send({"type": EVENT_MESSAGE, "envelope": for_live_subscribers(envelope)})


def publish_status_changed() -> None:
    """Ask every process's systemStatus subscribers to read the status again."""
    _send({"type": STATUS_MESSAGE})


def publish_access_changed(*, user_uuid: Any = None, api_key_name: str | None = None) -> None:
    """Ask every process's connections acting for this user or key to check their credentials."""
    if user_uuid is None and api_key_name is None:
        return
    _send(
        {
            "type": ACCESS_MESSAGE,
            "user_uuid": None if user_uuid is None else str(user_uuid),
            "api_key_name": api_key_name,
        }
    )


def _send(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    hub = _hub
    if hub is not None and hub.is_listening:
        target = hub.loop
    elif isinstance(layer, InMemoryChannelLayer):
        return  # nobody in this process listens, and an in-memory layer reaches no other process
    else:
        target = _publisher_loop()
    _run_on(target, _group_send(layer, message))


async def _group_send(layer: Any, message: dict[str, Any]) -> None:
    await layer.group_send(GROUP, message)


# Tasks on the running loop, and futures of coroutines handed to another loop's thread.
_background: set[asyncio.Future[Any] | concurrent.futures.Future[Any]] = set()


def _run_on(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> None:
    """Run `coroutine` on `loop`: plain threads wait (bounded); a running loop never blocks."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task = loop.create_task(coroutine)
        _background.add(task)
        task.add_done_callback(_forget_and_log)
        return
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    if running is not None:
        # Called from async code on another loop: it must not block, so report failures later.
        _background.add(future)
        future.add_done_callback(_forget_and_log)
        return
    try:
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:  # the event already reached its destination; live delivery is best effort
        future.cancel()
        logger.exception("Could not publish a live message to the channel layer")


def _forget_and_log(future: asyncio.Future[Any] | concurrent.futures.Future[Any]) -> None:
    _background.discard(future)
    if not future.cancelled() and future.exception() is not None:
        logger.error("Could not publish a live message", exc_info=future.exception())


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
        self._buffer: deque[Item] = deque()
        self._dropped = 0
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

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def next(self) -> Item | Dropped:
        while not self._buffer and not self._dropped:
            self._ready.clear()
            await self._ready.wait()
        if self._dropped:
            notice, self._dropped = Dropped(self._dropped), 0
            return notice
        return self._buffer.popleft()

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
        for subscription in list(self.subscriptions):
            subscription.offer(item)

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
