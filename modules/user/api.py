"""What other modules may use of the user module: plain data about users, looked up by uuid."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class UserSummary:
    uuid: uuid.UUID
    username: str
    type: str  # "STAFF" | "DRIVER"
    full_name: str
    date_of_birth: dt.date | None
    is_active: bool
    is_staff: bool


def _summary(user: object) -> UserSummary:
    profile = user.profile  # type: ignore[attr-defined]
    return UserSummary(
        uuid=user.uuid,  # type: ignore[attr-defined]
        username=user.username,  # type: ignore[attr-defined]
        type=user.type,  # type: ignore[attr-defined]
        full_name=profile.full_name if profile else "",
        date_of_birth=profile.date_of_birth if profile else None,
        is_active=user.is_active and not user.banned,  # type: ignore[attr-defined]
        is_staff=user.is_staff,  # type: ignore[attr-defined]
    )


def users_by_uuid(uuids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UserSummary]:
    """Summaries of the users with these uuids (missing ones are absent), in one query."""
    from modules.user.models import User

    wanted = {u if isinstance(u, uuid.UUID) else uuid.UUID(str(u)) for u in uuids}
    if not wanted:
        return {}
    users = User.objects.filter(uuid__in=wanted).select_related("staff_profile", "driver_profile")
    return {user.uuid: _summary(user) for user in users}


def active_driver(user_uuid: uuid.UUID) -> UserSummary | None:
    """The user when it exists, is active, not banned and of type DRIVER; otherwise None."""
    summary = users_by_uuid([user_uuid]).get(user_uuid)
    if summary is None or not summary.is_active or summary.type != "DRIVER":
        return None
    return summary
