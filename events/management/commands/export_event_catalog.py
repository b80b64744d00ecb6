"""`manage.py export_event_catalog` (`make catalog`): writes events/catalog.json."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from events.catalog import CATALOG_PATH, catalog_json


class Command(BaseCommand):
    help = "Write events/catalog.json: every declared event with the JSON schema of its data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail when the committed file is stale."
        )
        parser.add_argument(
            "--stdout", action="store_true", help="Print instead of writing the file."
        )

    def handle(self, *args: Any, check: bool = False, stdout: bool = False, **options: Any) -> None:
        current = catalog_json()
        if stdout:
            self.stdout.write(current, ending="")
            return
        if check:
            committed = CATALOG_PATH.read_text() if CATALOG_PATH.exists() else ""
            if committed != current:
                raise SystemExit("events/catalog.json is stale: run `make catalog` and commit it.")
            self.stdout.write("events/catalog.json is up to date.")
            return
        CATALOG_PATH.write_text(current)
        self.stdout.write(f"Wrote {CATALOG_PATH}")
