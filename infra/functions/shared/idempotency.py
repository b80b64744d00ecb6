"""Processed-event ids, so an event EventBridge delivers twice does its work once.

`once(store, key)` claims the key before the work and marks it done after; if the work fails the
claim is released, so the retry does the work. A claim whose worker died (Lambda timeout) expires
after LEASE_SECONDS. Stores: DynamoDB with conditional writes in AWS (PROCESSED_EVENTS_TABLE), a
SQLite file locally (PROCESSED_EVENTS_FILE, or next to NOTIFICATIONS_FILE), else process memory.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from .runtime import setting

LEASE_SECONDS = 300
KEEP_SECONDS = 7 * 24 * 3600  # longer than EventBridge retries (24 h) and the archive replays we do
IN_PROGRESS, DONE = "IN_PROGRESS", "DONE"


class ProcessedEvents(Protocol):
    def claim(self, key: str) -> bool:
        """True when the caller should do the work now (nobody did it, nobody is doing it)."""

    def complete(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


@contextlib.contextmanager
def once(store: ProcessedEvents, key: str) -> Iterator[bool]:
    """`with once(store, key) as first:` do the work only when `first`."""
    if not store.claim(key):
        yield False
        return
    try:
        yield True
    except BaseException:
        store.release(key)
        raise
    store.complete(key)


class MemoryProcessedEvents:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, float]] = {}

    def claim(self, key: str) -> bool:
        now = time.time()
        with self._lock:
            status, lease_until = self._entries.get(key, ("", 0.0))
            if status == DONE or (status == IN_PROGRESS and lease_until > now):
                return False
            self._entries[key] = (IN_PROGRESS, now + LEASE_SECONDS)
            return True

    def complete(self, key: str) -> None:
        with self._lock:
            self._entries[key] = (DONE, 0.0)

    def release(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class SqliteProcessedEvents:
    """A small SQLite file; safe across threads and processes (IMMEDIATE transactions)."""

    def __init__(self, path: str) -> None:
        self.path = path
        with self._connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS processed_events ("
                " key TEXT PRIMARY KEY, status TEXT NOT NULL,"
                " lease_until REAL NOT NULL, updated_at REAL NOT NULL)"
            )

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def claim(self, key: str) -> bool:
        now = time.time()
        with self._connection() as db:
            row = db.execute(
                "SELECT status, lease_until FROM processed_events WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and (row[0] == DONE or row[1] > now):
                return False
            db.execute(
                "INSERT OR REPLACE INTO processed_events (key, status, lease_until, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (key, IN_PROGRESS, now + LEASE_SECONDS, now),
            )
            # Forget old ids so the file stays small.
            db.execute("DELETE FROM processed_events WHERE updated_at < ?", (now - KEEP_SECONDS,))
            return True

    def complete(self, key: str) -> None:
        with self._connection() as db:
            db.execute(
                "UPDATE processed_events SET status = ?, updated_at = ? WHERE key = ?",
                (DONE, time.time(), key),
            )

    def release(self, key: str) -> None:
        with self._connection() as db:
            db.execute(
                "DELETE FROM processed_events WHERE key = ? AND status = ?", (key, IN_PROGRESS)
            )


class DynamoDbProcessedEvents:
    """Conditional writes on the template's ProcessedEventsTable (key, status, leaseUntil, TTL)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3  # in the Lambda runtime

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self.client = client

    def claim(self, key: str) -> bool:
        now = int(time.time())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "key": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "leaseUntil": {"N": str(now + LEASE_SECONDS)},
                    "expiresAt": {"N": str(now + KEEP_SECONDS)},
                },
                ConditionExpression=(
                    "attribute_not_exists(#key) OR (#status = :in_progress AND leaseUntil < :now)"
                ),
                ExpressionAttributeNames={"#key": "key", "#status": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":now": {"N": str(now)},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def complete(self, key: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"key": {"S": key}},
            UpdateExpression="SET #status = :done",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": {"S": DONE}},
        )

    def release(self, key: str) -> None:
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table_name,
                Key={"key": {"S": key}},
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":in_progress": {"S": IN_PROGRESS}},
            )


_memory_stores: dict[str, MemoryProcessedEvents] = {}
_memory_lock = threading.Lock()


def processed_events_store() -> ProcessedEvents:
    table = os.environ.get("PROCESSED_EVENTS_TABLE")
    if table:
        return DynamoDbProcessedEvents(table)
    path = setting("PROCESSED_EVENTS_FILE")
    notifications_file = setting("NOTIFICATIONS_FILE")
    if not path and notifications_file:
        path = f"{notifications_file}.processed.sqlite3"
    if path:
        return SqliteProcessedEvents(path)
    with _memory_lock:
        return _memory_stores.setdefault("default", MemoryProcessedEvents())
