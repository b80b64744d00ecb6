from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def current_sdl() -> str:
    from schema.root import schema

    return schema.as_str() + "\n"


class Command(BaseCommand):
    help = "Write the GraphQL SDL to schema.graphql (the committed public contract)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "schema.graphql"))

    def handle(self, *args: object, **options: object) -> None:
        path = Path(str(options["output"]))
        path.write_text(current_sdl())
        self.stdout.write(f"wrote {path}")
