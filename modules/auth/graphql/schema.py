"""auth's root fields: phone status, verification codes, sign-up/in/out, tokens, API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, cast

import strawberry
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from modules.auth import errors, models, services
from modules.user.graphql.types import User, UserType, user_loader
from schema.kit.context import Info
from schema.kit.enums import graphql_enum
from schema.kit.errors import mutate
from schema.kit.permissions import Anyone, Require, SignedIn, Superuser

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    AuthErrorCode = StrEnum
    VerificationPurpose = StrEnum
    ApiScope = StrEnum
else:
    AuthErrorCode = graphql_enum(errors.AuthErrorCode, description="Why an auth mutation failed.")
    VerificationPurpose = graphql_enum(
        models.VerificationPurpose, description="What a verification code is for."
    )
    ApiScope = graphql_enum(models.ApiScope, description="What an API key may do.")


@strawberry.type(description="An expected failure of an auth mutation.")
class AuthError:
    field: str | None
    message: str
    code: AuthErrorCode


@strawberry.type(description="Whether a phone number has an account (sign in) or not (sign up).")
class PhoneNumberStatus:
    registered: bool
    banned: bool = strawberry.field(
        description="The number was banned: it can never sign up again."
    )


@strawberry.type
class RequestVerificationCodePayload:
    expires_at: dt.datetime | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="Tokens for a signed-in user. Send the access token as `Authorization: Bearer …`."
)
class AuthPayload:
    access_token: str | None = None
    refresh_token: str | None = strawberry.field(
        default=None,
        description="Opaque; exchange it with refreshToken (once: each use rotates it).",
    )
    user: User | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list)


@strawberry.type
class SignOutPayload:
    errors: list[AuthError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateApiKeyPayload:
    api_key: str | None = strawberry.field(
        default=None, description="Shown this once; only a digest is kept."
    )
    errors: list[AuthError] = strawberry.field(default_factory=list)


@strawberry.input
class SignUpInput:
    phone_number: str
    code: str
    user_type: UserType
    full_name: str
    date_of_birth: dt.date | None = None


def _signed_in(session: services.Session) -> dict[str, Any]:
    return {
        "access_token": session.access_token,
        "refresh_token": session.refresh_token,
        "user": user_loader.load(session.user_uuid),
    }


@strawberry.type
class Query:
    @strawberry.field(
        extensions=[Require(Anyone)],
        description="Whether a number has an account: sign in if so, else sign up (rate limited).",
    )
    def phone_number_status(self, info: Info, phone_number: str) -> PhoneNumberStatus:
        try:
            status = services.phone_number_status_check(
                phone_number=phone_number, client=info.context.client_address
            )
        except ValidationError as exc:
            # A query has no payload: the typed code travels in the error's extensions.
            error = (
                next(iter(exc.error_dict.values()))[0]
                if hasattr(exc, "error_dict")
                else exc.error_list[0]
            )
            code = str(error.code or errors.AuthErrorCode.INVALID)
            raise GraphQLError(str(error.message), extensions={"code": code}) from None
        return PhoneNumberStatus(registered=status.registered, banned=status.banned)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Require(Anyone)],
        description=(
            "Send a 6-digit code (3 minutes, 5 tries; 5 codes per number a day). The answer never "
            "says whether the number has an account: that is told only to whoever holds the code."
        ),
    )
    def request_verification_code(
        self, info: Info, phone_number: str, purpose: VerificationPurpose
    ) -> RequestVerificationCodePayload:
        return mutate(
            RequestVerificationCodePayload,
            lambda: {
                "expires_at": services.verification_code_request(
                    phone_number=phone_number,
                    purpose=purpose.value,
                    client=info.context.client_address,
                )
            },
        )

    @strawberry.mutation(
        extensions=[Require(Anyone)],
        description="Create a DRIVER account with a SIGN_UP code. userType STAFF is refused "
        "(STAFF_SIGN_UP_NOT_ALLOWED): an administrator creates staff accounts.",
    )
    def sign_up(self, input: SignUpInput) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(
                services.sign_up(
                    phone_number=input.phone_number,
                    code=input.code,
                    user_type=input.user_type.value,
                    full_name=input.full_name,
                    date_of_birth=input.date_of_birth,
                )
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Anyone)], description="Sign in with a SIGN_IN code (no password)."
    )
    def sign_in_with_code(self, phone_number: str, code: str) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(services.sign_in_with_code(phone_number=phone_number, code=code)),
        )

    @strawberry.mutation(
        extensions=[Require(Anyone)], description="Staff sign-in with username and password."
    )
    def sign_in_with_password(self, info: Info, username: str, password: str) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(
                services.sign_in_with_password(
                    username=username,
                    password=password,
                    client=info.context.client_address,
                )
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Anyone)],
        description="New tokens for a refresh token (which then stops working).",
    )
    def refresh_token(self, refresh_token: str) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(services.refresh_token_rotate(refresh_token=refresh_token)),
        )

    @strawberry.mutation(
        extensions=[Require(SignedIn)], description="End the session of this refresh token."
    )
    def sign_out(self, info: Info, refresh_token: str) -> SignOutPayload:
        return mutate(
            SignOutPayload,
            lambda: services.session_sign_out(
                refresh_token=refresh_token,
                user_uuid=cast(uuid.UUID, info.context.principal.user_uuid),  # signed in: a user
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Superuser)],
        description="A new API key for a machine client (superuser).",
    )
    def create_api_key(self, info: Info, name: str, scopes: list[ApiScope]) -> CreateApiKeyPayload:
        return mutate(
            CreateApiKeyPayload,
            lambda: {
                "api_key": services.api_key_create(
                    name=name,
                    scopes=[scope.value for scope in scopes],
                    created_by_uuid=info.context.principal.user_uuid,
                ).key
            },
        )
