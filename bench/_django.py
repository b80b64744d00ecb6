"""Django for a bench process: the project's settings on a throwaway, migrated database.

The database is a SQLite file in a temporary folder removed at exit, unless BENCH_DATABASE_URL
names another (e.g. a PostgreSQL database of your own). The in-process relay stays off, so the
figures are not disturbed by background work; logging is quiet.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def setup_django(**environment: str) -> Path:
    """Configure and migrate; returns the bench's scratch folder."""
    workdir = Path(tempfile.mkdtemp(prefix="majestic-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ["EVENTS_RELAY_IN_PROCESS"] = "false"
    os.environ.setdefault("LOG_LEVEL", "CRITICAL")
    os.environ.setdefault("AUTH_PRINT_VERIFICATION_CODES", "false")
    os.environ.setdefault("NOTIFICATIONS_FILE", str(workdir / "notifications.jsonl"))
    os.environ.update(environment)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return workdir
