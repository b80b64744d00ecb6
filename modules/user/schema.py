"""GraphQL face of the user module: `User`, `me`, `users`, and the profile and account mutations."""

import datetime as dt
import uuid
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry_django.relay import DjangoCursorConnection

from modules.user import models, selectors, services
from modules.user.errors import UserErrorCode
from modules.user.filters import UserFilterSet
from schema import loaders
from schema.context import Info
from schema.cursors import bind_cursors
from schema.errors import mutate
from schema.filters import apply_filters, filter_input, order_input
from schema.permissions import Require, SignedIn, Staff, Superuser

strawberry.enum(UserErrorCode, name="UserErrorCode", description="Why a user mutation failed.")


@strawberry.enum(name="UserType", description="What a user does: office staff or driver.")
class UserTypeEnum(Enum):
    STAFF = "STAFF"
    DRIVER = "DRIVER"


@strawberry.type(description="An expected failure of a user mutation.")
class UserError:
    field: str | None
    message: str
    code: UserErrorCode


def _may_see_private_fields(info: Info, user: models.User) -> bool:
    principal = info.context.principal
    return principal.is_staff or (principal.is_user and principal.user_uuid == user.uuid)


@strawberry_django.type(models.User, name="User", description="A person who uses Majestic.")
class User(relay.Node):
    uuid: strawberry.auto
    username: strawberry.auto
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
            return queryset.filter(uuid=principal.user_uuid)
        return queryset.none()

    @strawberry_django.field(only=["type"])
    def type(self, root: models.User) -> UserTypeEnum:
        return UserTypeEnum(root.type)

    @strawberry_django.field(
        only=["uuid", "phone_number"],
        description="E.164; only the user themselves and staff see it (null for anyone else).",
    )
    def phone_number(self, root: models.User, info: Info) -> str | None:
        return root.phone_number if _may_see_private_fields(info, root) else None

    @strawberry_django.field(select_related=["staff_profile", "driver_profile"], only=["type"])
    def full_name(self, root: models.User) -> str:
        profile = root.profile
        return profile.full_name if profile is not None else ""

    @strawberry_django.field(select_related=["staff_profile", "driver_profile"], only=["type"])
    def date_of_birth(self, root: models.User) -> dt.date | None:
        profile = root.profile
        return profile.date_of_birth if profile is not None else None

    @strawberry_django.field(
        prefetch_related=["groups"], description="Names of the user's permission groups."
    )
    def groups(self, root: models.User) -> list[str]:
        if "groups" in getattr(root, "_prefetched_objects_cache", {}):
            names = [group.name for group in root.groups.all()]
        else:  # a user from the "user.user" loader: every such user's groups in one query
            names = loaders.loader(GROUPS_LOADER).load(root.pk) or []
        return sorted(names)


GROUPS_LOADER = "user.groups"


def fetch_users_by_uuid(keys: set[Any]) -> dict[Any, models.User]:
    """The "user.user" loader: User models by uuid, for other modules' `UserRef` fields."""
    wanted = {key if isinstance(key, uuid.UUID) else uuid.UUID(str(key)) for key in keys}
    users = list(selectors.users_with_profiles().filter(uuid__in=wanted))
    # Groups are read only if asked for: announced now, fetched together on the first read.
    loaders.announce(GROUPS_LOADER, [user.pk for user in users])
    return {user.uuid: user for user in users}


def fetch_group_names(user_ids: set[Any]) -> dict[Any, list[str]]:
    """The "user.groups" loader: group names by user id."""
    names: dict[Any, list[str]] = {user_id: [] for user_id in user_ids}
    memberships = models.User.groups.through.objects.filter(user_id__in=user_ids)
    for user_id, name in memberships.values_list("user_id", "group__name"):
        names[user_id].append(name)
    return names


loaders.register("user.user", fetch_users_by_uuid)
loaders.register(GROUPS_LOADER, fetch_group_names)

UserFilter = filter_input(UserFilterSet, "UserFilter", types={"type": UserTypeEnum})
UserOrder = order_input(UserFilterSet, "UserOrder")


@strawberry.input(description="Profile fields to change; leave a field out to keep it.")
class UpdateProfileInput:
    full_name: str | None = None
    date_of_birth: dt.date | None = None


@strawberry.type
class UpdateProfilePayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UnregisterPayload:
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BanUserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field(extensions=[Require(SignedIn)], description="The signed-in user.")
    def me(self, info: Info) -> User:
        return info.context.principal.user

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[User],
        extensions=[Require(Staff)],
        description="Users, newest first (staff).",
    )
    def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        # Not called `order` in Python: strawberry-django would treat it as its own ordering input.
        sort: Annotated[UserOrder | None, strawberry.argument(name="order")] = None,
    ) -> QuerySet[models.User]:
        return apply_filters(selectors.users_with_profiles(), UserFilterSet, filter, sort)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[Require(SignedIn)], description="Change your own profile.")
    def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
        return mutate(
            UpdateProfilePayload,
            lambda: services.user_profile_update(
                user_uuid=info.context.principal.user_uuid,
                full_name=input.full_name,
                date_of_birth=input.date_of_birth,
            ),
        )

    @strawberry.mutation(
        extensions=[Require(SignedIn)],
        description="Close your account: anonymised, deactivated, every token of yours revoked.",
    )
    def unregister(self, info: Info) -> UnregisterPayload:
        me = info.context.principal.user_uuid
        return mutate(
            UnregisterPayload,
            lambda: services.user_unregister(user_uuid=me, unregistered_by_uuid=me) and None,
        )

    @strawberry.mutation(
        extensions=[Require(Superuser)], description="Ban a user for good (superuser)."
    )
    def ban_user(self, info: Info, uuid: uuid.UUID) -> BanUserPayload:
        return mutate(
            BanUserPayload,
            lambda: services.user_ban(
                user_uuid=uuid, banned_by_uuid=info.context.principal.user_uuid
            ),
        )


Subscription = None
