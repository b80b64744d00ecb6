"""Writes to the registered documents: import from a manifest, remove one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from schema.trusted_documents.manifest import ManifestEntry
from schema.trusted_documents.models import TrustedDocument
from schema.trusted_documents.selectors import forget_cached_documents


@dataclass(frozen=True)
class ImportReport:
    added: int
    already_registered: int


def trusted_documents_import(*, entries: Sequence[ManifestEntry]) -> ImportReport:
    """Register every entry (checked against its id by the manifest reader), all or none.

    An id already registered keeps its row: its body is the same text, by its hash.
    """
    with transaction.atomic():
        known = set(
            TrustedDocument.objects.filter(
                document_id__in=[e.document_id for e in entries]
            ).values_list("document_id", flat=True)
        )
        new = {e.document_id: e for e in entries if e.document_id not in known}
        TrustedDocument.objects.bulk_create(
            [
                TrustedDocument(
                    document_id=e.document_id,
                    operation_name=e.operation_name,
                    operation_type=e.operation_type,
                    body=e.body,
                )
                for e in new.values()
            ],
            ignore_conflicts=True,  # a concurrent import of the same manifest is no error
        )
        transaction.on_commit(forget_cached_documents)
    return ImportReport(added=len(new), already_registered=len(entries) - len(new))


def trusted_document_remove(*, document_id: str) -> bool:
    """Unregister one document; False when no such id was registered."""
    with transaction.atomic():
        deleted, _ = TrustedDocument.objects.filter(document_id=document_id).delete()
        forget_cached_documents()
        # Again after commit: another thread may have cached the row before the delete committed.
        transaction.on_commit(forget_cached_documents)
    return deleted > 0
