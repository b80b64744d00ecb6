"""What other modules may use of distribution: centers as plain data, and claims on them.

Shipping checks center codes here (`centers_by_code`) and, when a transport names centers, claims
them (`claim_centers`) so that a center cannot be deleted while anything refers to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from modules.distribution.models import MAX_ITEMS_PER_MOVEMENT, DistributionCenter

__all__ = [
    "MAX_ITEMS_PER_MOVEMENT",
    "CenterSummary",
    "center_code_canonical",
    "centers_by_code",
    "claim_centers",
    "release_centers",
    "seed_demo_centers",
]


@dataclass(frozen=True)
class CenterSummary:
    uuid: uuid.UUID
    center_code: str
    name: str


def _summary(center: DistributionCenter) -> CenterSummary:
    return CenterSummary(uuid=center.uuid, center_code=center.center_code, name=center.name)


def center_code_canonical(code: str) -> str:
    """How a center code is stored and keyed: stripped and upper case ("abc-1 " -> "ABC-1")."""
    from modules.distribution.models import normalize_center_code

    return normalize_center_code(code)


def centers_by_code(codes: Iterable[str]) -> dict[str, CenterSummary]:
    """Summaries of the existing centers among `codes`, keyed by canonical code, in one query."""
    from modules.distribution import selectors

    return {center.center_code: _summary(center) for center in selectors.centers_with_codes(codes)}


def claim_centers(codes: Iterable[str], *, holder: str) -> dict[str, CenterSummary]:
    """Lock the centers named by `codes` and record that `holder` refers to them.

    Call inside your transaction; the claim commits or rolls back with it. While any claim exists,
    deleteDistributionCenter is refused. Raises ValidationError(code="UNKNOWN_CENTER") naming the
    codes that match no center (then nothing is claimed). Returns summaries keyed by canonical code.
    """
    from modules.distribution import services

    return {
        center.center_code: _summary(center)
        for center in services.centers_claim(codes=codes, holder=holder)
    }


def release_centers(*, holder: str) -> int:
    """Forget every claim of `holder` (e.g. a transport that was deleted); returns how many."""
    from modules.distribution import services

    return services.centers_release(holder=holder)


def seed_demo_centers(*, staff_user_uuids: Iterable[uuid.UUID] = ()) -> list[CenterSummary]:
    """Demo data for `make run`: four centers (created once), each staffed by the given users."""
    from modules.distribution import services

    return [
        _summary(center) for center in services.demo_centers_seed(staff_user_uuids=staff_user_uuids)
    ]
