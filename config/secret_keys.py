"""Secrets in the settings: what production accepts as one, and the development SECRET_KEY.

Apart from settings.py (which imports this) so that tests can call both with values and paths of
their own. Nothing here ever puts a secret's value into a message.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_LENGTH = 32
# Random keys (hex, base64, token_urlsafe) use 14 or more; "aaaa…b" or "0101…" are no secret.
MIN_DISTINCT_CHARACTERS = 8

# Values printed in this repository (the former development default) or handed out by Django's
# project template: anyone can read them, so they sign or seal nothing.
KNOWN_PUBLIC_SECRETS = frozenset({"insecure-development-key-change-me-0123456789abcdef"})
PUBLIC_PREFIXES = ("django-insecure-",)
# Placeholders copied from examples instead of a generated value.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "replace-me", "replaceme")


def _repeats_a_shorter_piece(value: str) -> bool:
    # `value` occurs inside value+value before offset len(value) exactly when it is periodic.
    return (value + value).find(value, 1) < len(value)


def secret_weakness(value: str) -> str | None:
    """Why `value` is not fit to be a production secret, or None; the reason never quotes it."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    lowered = value.lower()
    if (
        value in KNOWN_PUBLIC_SECRETS
        or lowered.startswith(PUBLIC_PREFIXES)
        or any(marker in lowered for marker in PLACEHOLDER_MARKERS)
    ):
        return "a known public or placeholder value"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS or _repeats_a_shorter_piece(value):
        return (
            f"a repeated pattern (fewer than {MIN_DISTINCT_CHARACTERS} distinct characters,"
            " or one piece over and over)"
        )
    return None


# --- the development SECRET_KEY ------------------------------------------------------------------

# How long a reader waits for a key file another process is still writing (only possible where
# the file system has no hard links, see below).
_WRITE_WAIT_SECONDS = 2.0


def development_secret_key(path: Path) -> str:
    """This checkout's own SECRET_KEY outside production: random, made once, kept in `path`.

    A public default would let anyone derive what it keys (the development sealing key, code and
    phone digests, tokens). The first process to start makes the key; every later one, the test
    servers started in subprocesses among them, reads the same file. Two processes starting
    together agree: the key is written whole to a private temporary file (mkstemp: O_EXCL, mode
    0600) and then hard-linked to `path`, which fails if another process linked first; the loser
    reads the winner's key. Never called in production.
    """
    key = _read_key(path)
    if key is None:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _create_key_file(path, secrets.token_urlsafe(48))
        except OSError as exc:  # a read-only checkout, say
            raise ImproperlyConfigured(
                f"Cannot create the development secret key file {path}"
                f" ({exc.__class__.__name__}); set SECRET_KEY instead"
            ) from exc
        key = _read_key(path)
    if key is None or len(key) < MIN_SECRET_LENGTH:
        raise ImproperlyConfigured(f"{path} holds no usable key; delete it to get a new one")
    return key


def _create_key_file(path: Path, key: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-key-")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # atomic and exclusive: readers see no half-written file
        except FileExistsError:
            pass  # another process won the race; its key is the checkout's
        except OSError:
            _create_without_links(path, key)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _create_without_links(path: Path, key: str) -> None:
    # File systems without hard links: create exclusively in place; readers wait for the content.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
        file.flush()
        os.fsync(file.fileno())


def _read_key(path: Path) -> str | None:
    """What `path` holds (None: no file), waiting a moment for a file still being written."""
    deadline = time.monotonic() + _WRITE_WAIT_SECONDS
    while True:
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            return None
        if len(key) >= MIN_SECRET_LENGTH or time.monotonic() >= deadline:
            return key
        time.sleep(0.02)
