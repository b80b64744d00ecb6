"""The user module's root fields: `me`, `users`, and the profile and account mutations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry_django.relay import DjangoCursorConnection

from modules.user import errors, models, selectors, services
from modules.user.filters import UserFilterSet
from modules.user.graphql.types import User, UserType
from schema.kit.context import Info
from schema.kit.cursors import bind_cursors
from schema.kit.enums import graphql_enum
from schema.kit.errors import ERROR_CODE, ERROR_FIELD, ERROR_MESSAGE, PAYLOAD_ERRORS, mutate
from schema.kit.filters import FILTER, ORDER, apply_filters, filter_input, order_input
from schema.kit.permissions import Require, SignedIn, Staff, Superuser

A = strawberry.argument  # an argument's description: Annotated[type, A("...")]

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    UserErrorCode = StrEnum
else:
    UserErrorCode = graphql_enum(
        errors.UserErrorCode,
        description="Why a user mutation failed.",
        value_descriptions={
            "INVALID_PHONE_NUMBER": "Not a phone number in E.164 form (+15550000001).",
            "INVALID_FULL_NAME": "The full name is not acceptable (the message says why).",
            "INVALID_DATE_OF_BIRTH": "The date of birth is not acceptable (the message says why).",
            "PHONE_NUMBER_TAKEN": "Another account has this number.",
            "PHONE_NUMBER_BANNED": "This number was banned.",
            "ALREADY_BANNED": "The user is banned already.",
            "CANNOT_BAN_YOURSELF": "A superuser cannot ban their own account.",
            "USER_UNREGISTERED": "The account was closed.",
        },
    )


@strawberry.type(description="An expected failure of a user mutation.")
class UserError:
    field: str | None = strawberry.field(description=ERROR_FIELD)
    message: str = strawberry.field(description=ERROR_MESSAGE)
    code: UserErrorCode = strawberry.field(description=ERROR_CODE)


if TYPE_CHECKING:
    # filter_input and order_input build these inputs at run time: to mypy they are Any.
    UserFilter = Any
    UserOrder = Any
else:
    UserFilter = filter_input(UserFilterSet, "UserFilter", types={"type": UserType})
    UserOrder = order_input(UserFilterSet, "UserOrder")


@strawberry.input(description="Profile fields to change; leave a field out to keep it.")
class UpdateProfileInput:
    full_name: str | None = strawberry.field(default=None, description="The new full name.")
    date_of_birth: dt.date | None = strawberry.field(
        default=None, description="The new date of birth."
    )


@strawberry.type(description="The outcome of updateProfile.")
class UpdateProfilePayload:
    user: User | None = strawberry.field(
        default=None, description="You, as you are now; null when there are errors."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of unregister.")
class UnregisterPayload:
    errors: list[UserError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of banUser.")
class BanUserPayload:
    user: User | None = strawberry.field(
        default=None, description="The banned user; null when there are errors."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type
class Query:
    @strawberry.field(extensions=[Require(SignedIn)], description="The signed-in user.")
    def me(self, info: Info) -> User:
        return info.context.principal.user  # type: ignore[no-any-return]  # the user's row (Caller.user: Any), resolved as User

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[User],
        extensions=[Require(Staff)],
        description="Users, newest first (staff).",
    )
    def users(
        self,
        info: Info,
        filter: Annotated[UserFilter | None, FILTER] = None,
        # Not called `order` in Python: strawberry-django would treat it as its own ordering input.
        sort: Annotated[UserOrder | None, ORDER] = None,
    ) -> QuerySet[models.User]:
        return apply_filters(selectors.users_with_profiles(), UserFilterSet, filter, sort)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[Require(SignedIn)], description="Change your own profile.")
    def update_profile(
        self, info: Info, input: Annotated[UpdateProfileInput, A("What to change.")]
    ) -> UpdateProfilePayload:
        return mutate(
            UpdateProfilePayload,
            lambda: services.user_profile_update(
                user_uuid=cast(uuid.UUID, info.context.principal.user_uuid),  # signed in: a user
                full_name=input.full_name,
                date_of_birth=input.date_of_birth,
            ),
        )

    @strawberry.mutation(
        extensions=[Require(SignedIn)],
        description="Close your account: anonymised, deactivated, every token of yours revoked.",
    )
    def unregister(self, info: Info) -> UnregisterPayload:
        me = cast(uuid.UUID, info.context.principal.user_uuid)  # signed in: a user
        return mutate(
            UnregisterPayload,
            lambda: services.user_unregister(user_uuid=me, unregistered_by_uuid=me) and None,
        )

    @strawberry.mutation(
        extensions=[Require(Superuser)], description="Ban a user for good (superuser)."
    )
    def ban_user(
        self, info: Info, uuid: Annotated[uuid.UUID, A("The user to ban.")]
    ) -> BanUserPayload:
        return mutate(
            BanUserPayload,
            lambda: services.user_ban(
                user_uuid=uuid, banned_by_uuid=info.context.principal.user_uuid
            ),
        )
