"""Events of the user module. No phone numbers: the user's uuid says whom an event is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from events import Event

UserTypeName = Literal["STAFF", "DRIVER"]


@dataclass(frozen=True)
class UserSignedUp(Event):
    module = "user"
    user_uuid: str
    user_type: UserTypeName


@dataclass(frozen=True)
class UserProfileUpdated(Event):
    """`changed_fields` names what changed (GraphQL names, e.g. "fullName"), not the values."""

    module = "user"
    user_uuid: str
    changed_fields: list[str]


@dataclass(frozen=True)
class UserBanned(Event):
    module = "user"
    user_uuid: str
    user_type: UserTypeName


@dataclass(frozen=True)
class UserUnregistered(Event):
    module = "user"
    user_uuid: str
    user_type: UserTypeName
