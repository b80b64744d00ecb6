"""Reading manifests (Apollo's persisted-query manifest, or a plain `{id: document}` map) and
making the project's own: the fixed operations of the Lambda functions and of the ops dashboard."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse

from schema.trusted_documents import identifiers

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The manifest cannot be imported; the message says which entry and why."""


@dataclass(frozen=True)
class ManifestEntry:
    document_id: str  # sha256:<hex>
    operation_name: str
    operation_type: str
    body: str


def _operation_of(body: str, where: str) -> tuple[str, str]:
    """(name, type) of the document's first operation; ManifestError when it does not parse."""
    try:
        document = parse(body, no_location=True)
    except GraphQLError as exc:
        raise ManifestError(f"{where}: the document does not parse: {exc.message}") from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise ManifestError(f"{where}: the document has no operation.")
    first = operations[0]
    return (first.name.value if first.name else ""), first.operation.value


def _entry(raw_id: object, body: object, where: str) -> ManifestEntry:
    if not isinstance(body, str) or not body.strip():
        raise ManifestError(f"{where}: the document must be a non-empty string.")
    expected = identifiers.document_hash(body)
    given = identifiers.hash_of_document_id(raw_id)
    if given is None and identifiers.is_hash(raw_id):
        given = str(raw_id)  # Apollo's manifests carry the bare hex
    if given is None:
        raise ManifestError(f"{where}: the id {raw_id!r} is not sha256:<64 lowercase hex digits>.")
    if given != expected:
        raise ManifestError(
            f"{where}: the id does not match the document (its SHA-256 is {expected})."
        )
    name, operation_type = _operation_of(body, where)
    return ManifestEntry(identifiers.PREFIX + expected, name, operation_type, body)


def entries_from(data: Any) -> list[ManifestEntry]:
    """Every document in a parsed manifest, each checked against its id; ManifestError else."""
    if not isinstance(data, dict):
        raise ManifestError("A manifest is a JSON object.")
    if data.get("format") == APOLLO_FORMAT:
        if data.get("version") != 1:
            raise ManifestError("Only version 1 of the Apollo manifest format is known.")
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ManifestError("`operations` must be a list.")
        entries = []
        for index, operation in enumerate(operations):
            where = f"operations[{index}]"
            if not isinstance(operation, dict):
                raise ManifestError(f"{where}: an operation is an object with id and body.")
            entries.append(_entry(operation.get("id"), operation.get("body"), where))
        return entries
    if "format" in data:
        raise ManifestError(f"Unknown manifest format {data['format']!r}.")
    return [_entry(raw_id, body, f"document {raw_id!r}") for raw_id, body in data.items()]


def apollo_manifest(entries: Iterable[ManifestEntry]) -> dict[str, Any]:
    """Entries in Apollo's format, bare hex ids as Apollo's tools write them, sorted by id."""
    return {
        "format": APOLLO_FORMAT,
        "version": 1,
        "operations": [
            {
                "id": entry.document_id.removeprefix(identifiers.PREFIX),
                "name": entry.operation_name,
                "type": entry.operation_type,
                "body": entry.body,
            }
            for entry in sorted(entries, key=lambda e: e.document_id)
        ],
    }


def function_operations() -> list[ManifestEntry]:
    """Every fixed operation the Lambda functions send (module-level `Operation`s under
    infra.functions), as manifest entries: the code is the source, the manifest follows it."""
    import infra.functions
    from infra.functions.shared.gateway import Operation

    found: dict[str, ManifestEntry] = {}
    for module_info in pkgutil.walk_packages(infra.functions.__path__, "infra.functions."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, Operation):
                entry = _entry(value.document_id, value.text, value.name)
                found[entry.document_id] = entry
    return sorted(found.values(), key=lambda e: e.document_id)


# `var NAME = "…" + "…";` in the dashboard's script: its documents, as string constants.
_JS_DOCUMENT = re.compile(r'var [A-Z_]+ = ((?:"(?:[^"\\\n]|\\.)*"\s*\+?\s*)+);')
_OPERATION_START = re.compile(r"\s*(query|mutation|subscription)\b")


def dashboard_operations(script: Path) -> list[ManifestEntry]:
    """The documents the ops dashboard (`config/static/ops/ops.js`) sends: its sign-in, refresh
    and sign-out come from callers who are not staff yet, so `require` must know them."""
    found: dict[str, ManifestEntry] = {}
    for match in _JS_DOCUMENT.finditer(script.read_text(encoding="utf-8")):
        # A double-quoted JavaScript string without odd escapes reads as a JSON string.
        text = "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', match[1]))
        if _OPERATION_START.match(text):
            entry = _entry(identifiers.document_id(text), text, script.name)
            found[entry.document_id] = entry
    return sorted(found.values(), key=lambda e: e.document_id)
