"""Access JWTs and rotating refresh tokens: who a token says you are, and when it stops working."""

import datetime as dt
import uuid

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from modules.auth.api import access_token_for
from modules.auth.credentials import encode_access_token, secret_digest
from modules.auth.models import RefreshToken, RefreshTokenFamily
from modules.auth.services import issue_access_token, sessions_revoke, sessions_revoke_all
from tests.auth.flows import ME, REFRESH, SIGN_OUT, codes, sign_in_with_code
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db

PHONE = "+821012345555"


@pytest.fixture
def session(gql):
    user = make_driver(phone_number=PHONE)
    payload = sign_in_with_code(gql, PHONE)
    assert payload["errors"] == []
    return user, payload


def refresh(gql, token):
    return gql(REFRESH, {"token": token})["data"]["refreshToken"]


def me(gql, access_token, **kwargs):
    return gql(ME, as_=f"Bearer {access_token}", **kwargs)


def test_access_token_claims_name_the_user_by_uuid(session):
    user, payload = session
    claims = jwt.decode(
        payload["accessToken"],
        settings.JWT_SIGNING_KEY,
        algorithms=["HS256"],
        issuer=settings.JWT_ISSUER,
    )
    assert claims["sub"] == str(user.uuid) and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60, "15 minutes, not MMD's 365 days (defect 14.4)"
    assert {"jti", "iss", "sid"} <= set(claims)
    assert str(user.pk) not in (claims["sub"],), "never the integer key"


def test_refresh_token_is_opaque_and_stored_only_as_a_digest(session):
    _, payload = session
    token = payload["refreshToken"]
    assert token.count(".") == 0
    row = RefreshToken.objects.get()
    assert row.token_digest == secret_digest(token) and token not in str(row.__dict__)
    assert row.expires_at - row.created_at == dt.timedelta(days=30)


# MMD 10.2 #4
def test_refresh_gives_new_working_tokens(gql, session):
    user, payload = session
    renewed = refresh(gql, payload["refreshToken"])
    assert renewed["errors"] == [] and renewed["user"]["uuid"] == str(user.uuid)
    assert renewed["refreshToken"] != payload["refreshToken"]
    assert me(gql, renewed["accessToken"])["data"]["me"]["uuid"] == str(user.uuid)
    assert refresh(gql, renewed["refreshToken"])["errors"] == [], (
        "the new refresh token works in turn"
    )


# MMD 10.2 #5
def test_garbage_refresh_token_is_invalid(gql):
    payload = refresh(gql, "sadfdsfa")
    assert codes(payload) == ["INVALID_REFRESH_TOKEN"] and payload["accessToken"] is None


# Defect 14.4: no rotation. Here the old token stops working, and reusing it ends the session.
def test_reusing_a_rotated_token_revokes_the_whole_session(gql, session):
    _, payload = session
    renewed = refresh(gql, payload["refreshToken"])
    assert codes(refresh(gql, payload["refreshToken"])) == ["TOKEN_REUSED"]
    assert codes(refresh(gql, renewed["refreshToken"])) == ["INVALID_REFRESH_TOKEN"], (
        "the thief's copy is dead too"
    )
    assert me(gql, renewed["accessToken"], expect_errors=True).error_codes == ["UNAUTHENTICATED"]
    family = RefreshTokenFamily.objects.get()
    assert family.revoked_at is not None and family.revoked_reason == "reuse"


def test_reuse_ends_only_that_session(gql, session):
    _, first = session
    second = sign_in_with_code(gql, PHONE)
    refresh(gql, first["refreshToken"])
    refresh(gql, first["refreshToken"])
    assert refresh(gql, second["refreshToken"])["errors"] == []


def test_expired_refresh_token_is_invalid(gql, session, clock):
    _, payload = session
    clock.advance(days=30, seconds=1)
    assert codes(refresh(gql, payload["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


def test_refresh_for_a_banned_user_fails(gql, session):
    from modules.user.services import user_ban

    user, payload = session
    user_ban(user_uuid=user.uuid, banned_by_uuid=None)
    assert codes(refresh(gql, payload["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


def test_refresh_is_open_to_anonymous_callers(gql, session):
    _, payload = session
    assert refresh(gql, payload["refreshToken"])["errors"] == []


# Defect 14.4: signout was a no-op outside dev and silently accepted invalid tokens.
def test_sign_out_revokes_the_refresh_token_and_its_access_tokens(gql, session):
    _, payload = session
    result = gql(
        SIGN_OUT, {"token": payload["refreshToken"]}, as_=f"Bearer {payload['accessToken']}"
    )
    assert result["data"]["signOut"]["errors"] == []
    assert codes(refresh(gql, payload["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]
    assert me(gql, payload["accessToken"], expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_sign_out_with_an_invalid_token_is_a_typed_error(gql, session):
    _, payload = session
    result = gql(SIGN_OUT, {"token": "not-a-token"}, as_=f"Bearer {payload['accessToken']}")
    assert codes(result["data"]["signOut"]) == ["INVALID_REFRESH_TOKEN"]


def test_sign_out_refuses_another_users_token(gql, session):
    _, payload = session
    other = make_staff()
    result = gql(SIGN_OUT, {"token": payload["refreshToken"]}, as_=other)
    assert codes(result["data"]["signOut"]) == ["FORBIDDEN"]
    assert refresh(gql, payload["refreshToken"])["errors"] == [], "the owner's session is untouched"


def test_sign_out_needs_a_signed_in_caller(gql, session):
    _, payload = session
    result = gql(SIGN_OUT, {"token": payload["refreshToken"]})
    assert codes(result["data"]["signOut"]) == ["UNAUTHENTICATED"]
    assert refresh(gql, payload["refreshToken"])["errors"] == []


def test_sign_out_ends_only_that_session(gql, session):
    _, first = session
    second = sign_in_with_code(gql, PHONE)
    gql(SIGN_OUT, {"token": first["refreshToken"]}, as_=f"Bearer {first['accessToken']}")
    assert me(gql, second["accessToken"])["data"]["me"]
    assert refresh(gql, second["refreshToken"])["errors"] == []


# --- access tokens that must not work -------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer ", "Bearer a.b.c", "Token abc", "Basic dXNlcjpwYXNz", "Bearer"],
)
def test_garbage_authorization_is_401_unauthenticated(gql, authorization):
    result = gql("{ __typename }", as_=authorization, expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]


def test_expired_access_token_is_401(gql):
    user = make_staff()
    token = issue_access_token(user, now=timezone.now() - dt.timedelta(minutes=16))
    result = gql(ME, as_=f"Bearer {token}", expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]
    assert "expired" in result["errors"][0]["message"]


def test_token_signed_with_another_key_is_401(gql):
    user = make_staff()
    now = int(timezone.now().timestamp())
    forged = jwt.encode(
        {
            "sub": str(user.uuid),
            "type": "access",
            "iat": now,
            "exp": now + 60,
            "iss": settings.JWT_ISSUER,
            "jti": "x",
        },
        "another-key-" * 4,
        algorithm="HS256",
    )
    assert gql(ME, as_=f"Bearer {forged}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_unsigned_token_is_401(gql):
    user = make_staff()
    now = int(timezone.now().timestamp())
    claims = {
        "sub": str(user.uuid),
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "iss": settings.JWT_ISSUER,
        "jti": "x",
    }
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]  # "none" takes no key
    assert gql(ME, as_=f"Bearer {unsigned}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_token_of_another_type_is_401(gql):
    user = make_staff()
    now = int(timezone.now().timestamp())
    claims = {
        "sub": str(user.uuid),
        "type": "refresh",
        "iat": now,
        "exp": now + 60,
        "iss": settings.JWT_ISSUER,
        "jti": "x",
    }
    token = jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")
    assert gql(ME, as_=f"Bearer {token}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_token_for_an_unknown_user_is_401(gql):
    ghost = type("Ghost", (), {"uuid": uuid.uuid4()})()
    assert gql(ME, as_=f"Bearer {issue_access_token(ghost)}", expect_errors=True).error_codes == [
        "UNAUTHENTICATED"
    ]


def test_banned_users_token_stops_working_at_once(gql):
    from modules.user.services import user_ban

    user = make_driver()
    token = issue_access_token(user)
    user_ban(user_uuid=user.uuid, banned_by_uuid=None)
    result = gql(ME, as_=f"Bearer {token}", expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]


def test_deactivated_users_token_stops_working(gql):
    user = make_staff()
    token = issue_access_token(user)
    user.is_active = False
    user.save()
    assert gql(ME, as_=f"Bearer {token}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]


# --- every access token belongs to a session that can end --------------------------------------


def session_of(token: str) -> uuid.UUID:
    claims = jwt.decode(token, options={"verify_signature": False})
    return uuid.UUID(claims["sid"])


def test_a_token_without_a_session_is_401_even_when_signed_with_our_key(gql):
    # Such a token could never be signed out: it would live until it expired.
    user = make_staff()
    now = int(timezone.now().timestamp())
    claims = {
        "sub": str(user.uuid),
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "iss": settings.JWT_ISSUER,
        "jti": "x",
    }
    token = jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")
    result = gql(ME, as_=f"Bearer {token}", expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]


def test_a_token_naming_an_unknown_session_is_401(gql):
    user = make_staff()
    token = encode_access_token(user_uuid=user.uuid, session_uuid=uuid.uuid4(), now=timezone.now())
    assert gql(ME, as_=f"Bearer {token}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_no_access_token_is_made_without_a_session():
    with pytest.raises(TypeError):
        encode_access_token(user_uuid=uuid.uuid4(), session_uuid=None, now=timezone.now())  # type: ignore[arg-type]  # the wrong type under test


def test_access_token_for_starts_a_real_session(gql):
    user = make_staff()
    token = access_token_for(user)
    family = RefreshTokenFamily.objects.get(uuid=session_of(token))
    assert family.user_uuid == user.uuid and family.revoked_at is None
    assert gql(ME, as_=f"Bearer {token}")["data"]["me"]["uuid"] == str(user.uuid)


def test_access_token_for_tokens_stop_working_when_their_session_is_revoked(gql):
    user = make_staff()
    token, other = access_token_for(user), access_token_for(user)
    assert sessions_revoke(session_uuids=[session_of(token)], reason="admin") == 1
    assert gql(ME, as_=f"Bearer {token}", expect_errors=True).error_codes == ["UNAUTHENTICATED"]
    assert gql(ME, as_=f"Bearer {other}")["data"]["me"], "only that session ended"


def test_access_token_for_tokens_stop_working_when_all_sessions_are_revoked(gql):
    user = make_driver()
    token = access_token_for(user)
    sessions_revoke_all(user_uuid=user.uuid, reason="sign_out_everywhere")
    result = gql(ME, as_=f"Bearer {token}", expect_errors=True)
    assert result.status_code == 401 and result.error_codes == ["UNAUTHENTICATED"]


def test_a_token_issued_into_a_signed_in_session_dies_with_its_sign_out(gql, session):
    user, payload = session
    sid = session_of(payload["accessToken"])
    token = issue_access_token(user, session_uuid=sid)
    assert session_of(token) == sid
    gql(SIGN_OUT, {"token": payload["refreshToken"]}, as_=f"Bearer {token}")
    assert me(gql, token, expect_errors=True).error_codes == ["UNAUTHENTICATED"]
    with pytest.raises(ValueError):
        issue_access_token(user, session_uuid=sid)


def test_no_token_is_issued_into_another_users_session(session):
    _, payload = session
    with pytest.raises(ValueError):
        issue_access_token(make_staff(), session_uuid=session_of(payload["accessToken"]))


def test_error_messages_do_not_echo_the_token(gql):
    result = gql(ME, as_="Bearer secret-looking-garbage-123", expect_errors=True)
    assert "secret-looking-garbage-123" not in str(result)


# Defect 14.4: sign-in issued a session cookie alongside the JWT.
def test_sign_in_sets_no_session_cookie(client):
    from tests.conftest import call_graphql

    make_driver(phone_number=PHONE)
    from tests.auth.flows import REQUEST_CODE, SIGN_IN_WITH_CODE, last_sent_code

    call_graphql(client, REQUEST_CODE, {"phone": PHONE, "purpose": "SIGN_IN"})
    result = call_graphql(
        client, SIGN_IN_WITH_CODE, {"phone": PHONE, "code": last_sent_code(PHONE)}
    )
    assert result["data"]["signInWithCode"]["errors"] == []
    assert "sessionid" not in client.cookies
