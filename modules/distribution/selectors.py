"""Reads of the distribution module: querysets and lookups, no side effects."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from modules.distribution.models import (
    CENTER_CODE_PATTERN,
    CenterInventoryItem,
    DistributionCenter,
    normalize_center_code,
)


def canonical_codes(codes: Iterable[str]) -> set[str]:
    """The canonical spellings of `codes`, dropping what cannot be a center code at all."""
    canonical = {normalize_center_code(code) for code in codes if isinstance(code, str)}
    return {code for code in canonical if CENTER_CODE_PATTERN.match(code)}


def center_list() -> QuerySet[DistributionCenter]:
    return DistributionCenter.objects.all()


def centers_with_codes(codes: Iterable[str]) -> QuerySet[DistributionCenter]:
    return DistributionCenter.objects.filter(center_code__in=canonical_codes(codes))


def center_by_code(code: str) -> DistributionCenter | None:
    return centers_with_codes([code]).first()


def centers_keyed_by_code(codes: Iterable[str]) -> dict[str, DistributionCenter]:
    """Centers for the request loader "distribution.center": one query for any number of codes."""
    return {center.center_code: center for center in centers_with_codes(codes)}


def center_inventory(center: DistributionCenter) -> QuerySet[CenterInventoryItem]:
    """The items at `center`, most recent arrival first."""
    return CenterInventoryItem.objects.filter(center=center)
