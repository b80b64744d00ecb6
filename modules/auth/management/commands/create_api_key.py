"""`manage.py create_api_key NAME --scope HEARTBEAT --scope DISTRIBUTION`: prints a new key once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from modules.auth.models import ApiScope
from modules.auth.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a machine client and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name for the client, e.g. heartbeat-prod.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=ApiScope.values,
            dest="scopes",
            help="A scope the key carries; repeat for several.",
        )

    def handle(self, *args: Any, name: str, scopes: list[str], **options: Any) -> None:
        try:
            created = api_key_create(name=name, scopes=scopes)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"API key {created.name!r} with {', '.join(created.scopes)} (shown once; store it now):"
        )
        self.stdout.write(created.key)
