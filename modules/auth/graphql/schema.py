"""auth's root fields: phone status, verification codes, sign-up/in/out, tokens, API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from modules.auth import errors, models, services
from modules.user.graphql.types import User, UserType, user_loader
from schema.kit.context import Info
from schema.kit.enums import graphql_enum
from schema.kit.errors import ERROR_CODE, ERROR_FIELD, ERROR_MESSAGE, PAYLOAD_ERRORS, mutate
from schema.kit.permissions import Anyone, Require, SignedIn, Superuser

A = strawberry.argument  # an argument's description: Annotated[type, A("...")]

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    AuthErrorCode = StrEnum
    VerificationPurpose = StrEnum
    ApiScope = StrEnum
else:
    AuthErrorCode = graphql_enum(
        errors.AuthErrorCode,
        description="Why an auth mutation failed.",
        value_descriptions={
            "INVALID_PHONE_NUMBER": "Not a phone number in E.164 form (+15550000001).",
            "INVALID_CODE": "The code is wrong (each try counts).",
            "CODE_EXPIRED": "The code is too old or used up: request a new one.",
            "TOO_MANY_ATTEMPTS": "Too many wrong tries for this code: request a new one.",
            "RATE_LIMITED": "Too many attempts for now; try again later.",
            "PHONE_NUMBER_TAKEN": "An account has this number already: sign in instead.",
            "PHONE_NUMBER_BANNED": "This number was banned.",
            "PHONE_NUMBER_NOT_REGISTERED": "No account has this number: sign up instead.",
            "INVALID_CREDENTIALS": "Wrong username or password (which one is not said).",
            "INVALID_REFRESH_TOKEN": "The refresh token is unknown, expired or revoked.",
            "TOKEN_REUSED": "A refresh token was used twice: its session has ended.",
            "INVALID_FULL_NAME": "The full name is not acceptable (the message says why).",
            "INVALID_DATE_OF_BIRTH": "The date of birth is not acceptable (the message says why).",
            "API_KEY_NAME_TAKEN": "Another API key has that name.",
            "STAFF_SIGN_UP_NOT_ALLOWED": "Staff accounts are made by an administrator.",
        },
    )
    VerificationPurpose = graphql_enum(
        models.VerificationPurpose,
        description="What a verification code is for.",
        value_descriptions={
            "SIGN_IN": "Sign in to the account of the number (signInWithCode).",
            "SIGN_UP": "Make an account for the number (signUp).",
        },
    )
    ApiScope = graphql_enum(
        models.ApiScope,
        description="What an API key may do.",
        value_descriptions={
            "HEARTBEAT": "Run housekeeping (heartbeat).",
            "DISTRIBUTION": "Record departures and arrivals that shipping announced.",
            "NOTIFICATION": "Nothing through GraphQL today (the notification function).",
            "EVENTS": "Watch the event stream (domainEvents).",
            "FREE_TEXT_OPERATIONS": "Send query text where only registered documents run "
            "(GRAPHQL_TRUSTED_DOCUMENTS=require).",
        },
    )


@strawberry.type(description="An expected failure of an auth mutation.")
class AuthError:
    field: str | None = strawberry.field(description=ERROR_FIELD)
    message: str = strawberry.field(description=ERROR_MESSAGE)
    code: AuthErrorCode = strawberry.field(description=ERROR_CODE)


@strawberry.type(description="Whether a phone number has an account (sign in) or not (sign up).")
class PhoneNumberStatus:
    registered: bool = strawberry.field(description="An account has this number.")
    banned: bool = strawberry.field(
        description="The number was banned: it can never sign up again."
    )


@strawberry.type(description="The outcome of requestVerificationCode.")
class RequestVerificationCodePayload:
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the code stops working; null when there are errors."
    )
    errors: list[AuthError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(
    description="Tokens for a signed-in user. Send the access token as `Authorization: Bearer …`."
)
class AuthPayload:
    access_token: str | None = strawberry.field(
        default=None,
        description="A JWT for `Authorization: Bearer …`, valid for ACCESS_TOKEN_LIFETIME_SECONDS.",
    )
    refresh_token: str | None = strawberry.field(
        default=None,
        description="Opaque; exchange it with refreshToken (once: each use rotates it).",
    )
    user: User | None = strawberry.field(default=None, description="Who signed in.")
    errors: list[AuthError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of signOut.")
class SignOutPayload:
    errors: list[AuthError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of createApiKey.")
class CreateApiKeyPayload:
    api_key: str | None = strawberry.field(
        default=None, description="Shown this once; only a digest is kept."
    )
    errors: list[AuthError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.input(description="A new account, proved by a SIGN_UP code sent to its number.")
class SignUpInput:
    phone_number: str = strawberry.field(description="The number the code was sent to (E.164).")
    code: str = strawberry.field(description="The SIGN_UP code.")
    user_type: UserType = strawberry.field(description="DRIVER (STAFF is refused).")
    full_name: str = strawberry.field(description="The person's full name.")
    date_of_birth: dt.date | None = strawberry.field(
        default=None, description="The person's date of birth, if given."
    )


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
    def phone_number_status(
        self, info: Info, phone_number: Annotated[str, A("In E.164 form.")]
    ) -> PhoneNumberStatus:
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
        self,
        info: Info,
        phone_number: Annotated[str, A("Where to send the code (E.164).")],
        purpose: Annotated[VerificationPurpose, A("SIGN_IN or SIGN_UP.")],
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
    def sign_up(self, input: Annotated[SignUpInput, A("The new account.")]) -> AuthPayload:
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
    def sign_in_with_code(
        self,
        phone_number: Annotated[str, A("The account's number (E.164).")],
        code: Annotated[str, A("The SIGN_IN code sent to it.")],
    ) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(services.sign_in_with_code(phone_number=phone_number, code=code)),
        )

    @strawberry.mutation(
        extensions=[Require(Anyone)], description="Staff sign-in with username and password."
    )
    def sign_in_with_password(
        self,
        info: Info,
        username: Annotated[str, A("The staff account's username.")],
        password: Annotated[str, A("Its password.")],
    ) -> AuthPayload:
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
    def refresh_token(
        self, refresh_token: Annotated[str, A("The latest refresh token of the session.")]
    ) -> AuthPayload:
        return mutate(
            AuthPayload,
            lambda: _signed_in(services.refresh_token_rotate(refresh_token=refresh_token)),
        )

    @strawberry.mutation(
        extensions=[Require(SignedIn)], description="End the session of this refresh token."
    )
    def sign_out(
        self, info: Info, refresh_token: Annotated[str, A("The session's refresh token.")]
    ) -> SignOutPayload:
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
    def create_api_key(
        self,
        info: Info,
        name: Annotated[str, A("A unique name, to recognise and revoke it by.")],
        scopes: Annotated[list[ApiScope], A("What the key may do.")],
    ) -> CreateApiKeyPayload:
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
