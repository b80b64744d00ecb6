"""The relay: delivers pending outbox rows to the configured backend. (Issue 4 completes it.)"""

from __future__ import annotations


def relay_soon() -> None:
    """Ask the in-process relay to run once the current commit is done."""
