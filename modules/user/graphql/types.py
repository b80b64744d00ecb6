"""The user module's GraphQL types, and what other modules' faces may use of them.

Others import from here only: `User` (a Relay node), the `UserType` enum, and `user_loader`, which
resolves user uuids to `User` rows for the whole request in one query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, cast

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay

from modules.user import models, selectors
from schema.kit.context import Info
from schema.kit.enums import graphql_enum
from schema.kit.loaders import Loader

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    UserType = StrEnum
else:
    UserType = graphql_enum(
        models.UserType,
        name="UserType",
        description="What a user does: office staff or driver.",
        value_descriptions={
            "STAFF": "Office staff: signs in with a password, manages the logistics data.",
            "DRIVER": "Drives transports: signs in with a code sent to their phone.",
        },
    )


def _may_see_private_fields(info: Info, user: models.User) -> bool:
    principal = info.context.principal
    return principal.is_staff or (principal.is_user and principal.user_uuid == user.uuid)


def fetch_group_names(user_ids: set[int]) -> dict[int, list[str]]:
    """Group names by user id."""
    names: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    memberships = models.User.groups.through.objects.filter(user_id__in=user_ids)
    for user_id, name in memberships.values_list("user_id", "group__name"):
        names[user_id].append(name)
    return names


groups_loader: Loader[int, list[str]] = Loader("user.groups", fetch_group_names)


def fetch_users_by_uuid(keys: set[uuid.UUID]) -> dict[uuid.UUID, models.User]:
    """User rows by uuid, for other modules' `User` fields."""
    wanted = {key if isinstance(key, uuid.UUID) else uuid.UUID(str(key)) for key in keys}
    users = list(selectors.users_with_profiles().filter(uuid__in=wanted))
    # Groups are read only if asked for: announced now, fetched together on the first read.
    groups_loader.want([user.pk for user in users])
    return {user.uuid: user for user in users}


user_loader: Loader[uuid.UUID, models.User] = Loader("user.user", fetch_users_by_uuid)


@strawberry_django.type(models.User, name="User", description="A person who uses Majestic.")
class User(relay.Node):
    uuid: strawberry.auto = strawberry_django.field(description="The user's stable identifier.")
    username: strawberry.auto = strawberry_django.field(
        description="The account's username (staff sign in with it)."
    )
    is_staff: bool = strawberry_django.field(
        description="Marked as staff: may manage the logistics data."
    )

    @classmethod
    def resolve_id_attr(cls) -> str:
        # The node id wraps the public uuid, never the integer key.
        return "uuid"

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.User], info: Info, **kwargs: Any
    ) -> QuerySet[models.User]:
        principal = info.context.principal
        if principal.is_staff:
            return queryset
        if principal.is_user:
            return queryset.filter(uuid=cast(uuid.UUID, principal.user_uuid))  # a user's
        return queryset.none()

    @strawberry_django.field(only=["type"], description="STAFF or DRIVER.")
    def type(self, root: models.User) -> UserType:
        return UserType(root.type)

    @strawberry_django.field(
        only=["uuid", "phone_number"],
        description="E.164; only the user themselves and staff see it (null for anyone else).",
    )
    def phone_number(self, root: models.User, info: Info) -> str | None:
        return root.phone_number if _may_see_private_fields(info, root) else None

    @strawberry_django.field(
        select_related=["staff_profile", "driver_profile"],
        only=["type"],
        description="The person's full name (empty when not given).",
    )
    def full_name(self, root: models.User) -> str:
        profile = root.profile
        return profile.full_name if profile is not None else ""

    @strawberry_django.field(
        select_related=["staff_profile", "driver_profile"],
        only=["type"],
        description="The person's date of birth, if given.",
    )
    def date_of_birth(self, root: models.User) -> dt.date | None:
        profile = root.profile
        return profile.date_of_birth if profile is not None else None

    @strawberry_django.field(
        prefetch_related=["groups"], description="Names of the user's permission groups."
    )
    def groups(self, root: models.User) -> list[str]:
        if "groups" in getattr(root, "_prefetched_objects_cache", {}):
            names = [group.name for group in root.groups.all()]
        else:  # a user from user_loader: every such user's groups in one query
            names = groups_loader.load(root.pk) or []
        return sorted(names)
