"""Arrange helpers for tests: users of each kind, created through the ORM."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

_numbers = itertools.count(1)


def make_user(
    *,
    type: str = "STAFF",
    is_staff: bool = False,
    is_superuser: bool = False,
    full_name: str = "",
    password: str | None = None,
    **extra: Any,
) -> Any:
    from modules.user.models import DriverProfile, StaffProfile, User

    n = next(_numbers)
    user = User.objects.create_user(
        username=extra.pop("username", f"user{n}"),
        phone_number=extra.pop("phone_number", f"+1555010{n:04d}"),
        password=password,
        type=type,
        is_staff=is_staff,
        is_superuser=is_superuser,
        **extra,
    )
    profile_model = DriverProfile if type == "DRIVER" else StaffProfile
    # create_user already made the (empty) profile of the user's type.
    profile = profile_model.objects.get(user=user)
    profile.full_name = full_name or f"Person {n}"
    profile.save(update_fields=["full_name"])
    setattr(user, "driver_profile" if type == "DRIVER" else "staff_profile", profile)
    return user


def make_staff(**kwargs: Any) -> Any:
    return make_user(type="STAFF", is_staff=True, **kwargs)


def make_driver(**kwargs: Any) -> Any:
    return make_user(type="DRIVER", **kwargs)


def make_superuser(**kwargs: Any) -> Any:
    return make_user(type="STAFF", is_staff=True, is_superuser=True, **kwargs)


def api_key(*scopes: str) -> str:
    """An `Authorization` value for a fresh API key with `scopes`."""
    from modules.auth.services import api_key_create

    created = api_key_create(name=f"key-{uuid.uuid4().hex[:8]}", scopes=list(scopes))
    return f"Api-Key {created.key}"
