"""`manage.py trusted_documents import FILE | list | remove ID | manifest [--check]`.

`import` reads Apollo's persisted-query manifest or a plain `{id: document}` map; every id must be
the SHA-256 of its document (`sha256:<hex>`, or the bare hex), or nothing is imported.
`manifest` writes PROJECT_MANIFEST (`trusted-documents.json`): the fixed operations of the Lambda
functions and of the ops dashboard, generated from their code; `--check` only says whether the
committed file is current. A deployment imports it (`import trusted-documents.json`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schema.trusted_documents import identifiers, manifest, selectors, services

PROJECT_MANIFEST = Path(settings.BASE_DIR) / "trusted-documents.json"
DASHBOARD_DIR = Path(settings.BASE_DIR) / "config" / "static" / "ops"
DASHBOARD_SCRIPT = DASHBOARD_DIR / "ops.js"
# The page's own panels (config/templates/ops/dashboard.html loads them).
DASHBOARD_PANEL_SCRIPTS = [DASHBOARD_DIR / "charts.js", DASHBOARD_DIR / "deliveries.js"]


def dashboard_scripts() -> list[Path]:
    """The dashboard's scripts and the panel scripts of the modules in MODULES (config/dashboard.py
    includes the same ones: `static/ops/panels/<module>.js`)."""
    panels = (finders.find(f"ops/panels/{module}.js") for module in settings.MODULES)
    return [
        DASHBOARD_SCRIPT,
        *DASHBOARD_PANEL_SCRIPTS,
        *(Path(found) for found in panels if isinstance(found, str)),
    ]


def project_manifest_text() -> str:
    """The manifest of the project's own clients, as the code has them now."""
    entries = manifest.function_operations()
    for script in dashboard_scripts():
        entries += manifest.dashboard_operations(script)
    return json.dumps(manifest.apollo_manifest(entries), indent=2) + "\n"


class Command(BaseCommand):
    help = "Register, list and remove trusted documents (GRAPHQL_TRUSTED_DOCUMENTS)."
    stealth_options = ("stdin",)  # `import -` reads this stream (tests hand one in)

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser("import", help="register every document of a manifest")
        importing.add_argument("file", help="manifest JSON file, or - for standard input")
        actions.add_parser("list", help="print every registered document's id, type and name")
        removing = actions.add_parser("remove", help="unregister one document")
        removing.add_argument("document_id", help="sha256:<hex> (or the bare hex)")
        generating = actions.add_parser(
            "manifest", help="write the manifest of the functions' and the dashboard's operations"
        )
        generating.add_argument("--output", default=str(PROJECT_MANIFEST))
        generating.add_argument(
            "--check", action="store_true", help="fail when the file differs from the code"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options["file"], options.get("stdin") or sys.stdin)
        elif action == "list":
            for document in selectors.trusted_documents_list():
                self.stdout.write(
                    f"{document.document_id}\t{document.operation_type or '-'}\t"
                    f"{document.operation_name or '-'}"
                )
        elif action == "remove":
            self._remove(options["document_id"])
        else:
            self._project_manifest(Path(options["output"]), check=options["check"])

    def _import(self, file: str, stdin: TextIO) -> None:
        try:
            raw = stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        try:
            entries = manifest.entries_from(json.loads(raw))
        except ValueError as exc:  # invalid JSON, or a ManifestError
            raise CommandError(f"Nothing imported: {exc}") from exc
        report = services.trusted_documents_import(entries=entries)
        self.stdout.write(
            f"Imported {report.added} document(s); {report.already_registered} already registered."
        )

    def _remove(self, raw_id: str) -> None:
        document_hash = identifiers.hash_of_document_id(raw_id) or (
            raw_id if identifiers.is_hash(raw_id) else None
        )
        if document_hash is None:
            raise CommandError(f"{raw_id!r} is not sha256:<64 lowercase hex digits>.")
        document_id = identifiers.PREFIX + document_hash
        if not services.trusted_document_remove(document_id=document_id):
            raise CommandError(f"No document is registered under {document_id}.")
        self.stdout.write(f"Removed {document_id}.")

    def _project_manifest(self, output: Path, *, check: bool) -> None:
        text = project_manifest_text()
        if check:
            current = output.read_text(encoding="utf-8") if output.exists() else ""
            if current != text:
                raise CommandError(
                    f"{output} differs from the operations in the code: run"
                    " `python manage.py trusted_documents manifest`."
                )
            self.stdout.write(f"{output} is current.")
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}.")
