"""A second declaration of ParcelWeighed, for the duplicate-detection test."""

from __future__ import annotations

from dataclasses import dataclass

from events import Event


@dataclass(frozen=True)
class ParcelWeighed(Event):
    module = "elsewhere"
    grams: int
