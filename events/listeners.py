"""In-process listeners: a module takes note of another module's event as it is emitted.

    listen("shipping", "TransportStarted", note_departure)   # in an AppConfig.ready()

`emit` calls each listener of the event with its `data` (camelCase, as on the bus) right after the
outbox row is written, in the emitting transaction: the note commits or rolls back with the change,
so it holds before any consumer of the bus can see the event. A listener that raises fails the
change (as a constraint would). For small bookkeeping only; the work an event triggers goes
through the bus to the functions, which retry. Listeners are named by the event's module and
detail type (the catalog's contract), so the listening module imports nothing of the emitter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[dict[str, Any]], None]

_listeners: dict[tuple[str, str], list[Listener]] = {}


def listen(module: str, detail_type: str, listener: Listener) -> None:
    """Call `listener(data)` whenever `module` emits `detail_type` (registering twice: once)."""
    registered = _listeners.setdefault((module, detail_type), [])
    if listener not in registered:
        registered.append(listener)


def notify(module: str, detail_type: str, data: dict[str, Any]) -> None:
    for listener in _listeners.get((module, detail_type), ()):
        listener(data)
