"""Events declared for the tests only (module "testing"): shapes the real modules may not have."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from events import Event


@dataclass(frozen=True)
class ParcelWeighed(Event):
    """A parcel was weighed at a center."""

    module = "testing"
    tracking_number: Annotated[str, {"pattern": "^MJ[0-9]+$"}]
    weight_grams: int
    scale: Literal["FLOOR", "BENCH"] = "FLOOR"
    tags: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class FlakyHappened(Event):
    module = "testing"
    n: int


@dataclass(frozen=True)
class BulkyHappened(Event):
    module = "testing"
    payload: str


def weighed(n: int = 1, **extra: Any) -> ParcelWeighed:
    return ParcelWeighed(tracking_number=f"MJ{n:04d}", weight_grams=100 + n, **extra)


@dataclass(frozen=True)
class Leg:
    center_code: str
    minutes: float


@dataclass(frozen=True)
class RoutePlanned(Event):
    module = "testing"
    legs: list[Leg]
    counts: dict[str, int]
