"""An event whose sensitive_fields names no field, for the start-up check."""

from __future__ import annotations

from dataclasses import dataclass

from events import Event


@dataclass(frozen=True)
class CodeSent(Event):
    module = "elsewhere"
    sensitive_fields = ("phone",)  # a typo: the field is phone_number
    phone_number: str
