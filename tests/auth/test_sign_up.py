"""signUp: a verified number, a type, a name and a birth date make a user, profile and session."""

import pytest

from events.models import OutboxEvent
from modules.auth.models import RefreshTokenFamily, VerificationCode
from modules.user.models import DriverProfile, StaffProfile, User
from tests.auth.flows import ME, SIGN_UP, code_for, codes, events_of, request_code, sign_up
from tests.factories import make_driver, make_superuser

pytestmark = pytest.mark.django_db

PHONE = "+821012349998"


def sign_up_with(gql, **fields):
    variables = {
        "phoneNumber": PHONE,
        "code": "000000",
        "userType": "DRIVER",
        "fullName": "Kim Driver",
        "dateOfBirth": "1990-04-01",
        **fields,
    }
    return gql(SIGN_UP, {"input": variables})["data"]["signUp"]


# Defect 14.2: DRIVER sign-up answered 500 and left a STAFF user behind.
def test_driver_signs_up_with_a_driver_profile(gql):
    payload = sign_up(
        gql, PHONE, user_type="DRIVER", full_name="Kim Driver", date_of_birth="1990-04-01"
    )
    assert payload["errors"] == []
    assert payload["user"]["type"] == "DRIVER"
    user = User.objects.get(uuid=payload["user"]["uuid"])
    assert user.type == "DRIVER" and user.phone_number == PHONE
    assert (
        DriverProfile.objects.filter(user=user).exists()
        and not StaffProfile.objects.filter(user=user).exists()
    )
    me = gql(ME, as_=f"Bearer {payload['accessToken']}")["data"]["me"]
    assert me["type"] == "DRIVER" and me["phoneNumber"] == PHONE


# Defect 14.2: fullname and dob were silently ignored.
def test_full_name_and_date_of_birth_are_stored(gql):
    payload = sign_up(
        gql, PHONE, user_type="DRIVER", full_name="  Lee   Driver ", date_of_birth="1985-12-31"
    )
    assert payload["user"]["fullName"] == "Lee Driver"
    assert payload["user"]["dateOfBirth"] == "1985-12-31"
    assert DriverProfile.objects.get(user__uuid=payload["user"]["uuid"]).full_name == "Lee Driver"


# Attack: anyone with a phone signed up as STAFF, one admin click away from staff powers.
def test_nobody_signs_up_as_staff_and_the_code_stays_usable(gql):
    code = code_for(gql, PHONE, "SIGN_UP")
    payload = sign_up(gql, PHONE, user_type="STAFF", code=code)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("userType", "STAFF_SIGN_UP_NOT_ALLOWED")
    ]
    assert payload["accessToken"] is None and payload["user"] is None
    assert not User.objects.exists() and not StaffProfile.objects.exists()
    assert events_of("UserSignedUp") == []
    assert not RefreshTokenFamily.objects.exists()
    # Refused before the code was looked at: the same code still signs up a driver.
    assert sign_up(gql, PHONE, user_type="DRIVER", code=code)["errors"] == []


def test_staff_sign_up_is_refused_even_without_a_valid_code(gql):
    assert codes(sign_up_with(gql, userType="STAFF", code="123456")) == [
        "STAFF_SIGN_UP_NOT_ALLOWED"
    ]
    assert not User.objects.exists()


def test_username_does_not_reveal_the_phone_number(gql):
    payload = sign_up(gql, PHONE)
    assert "1012349998" not in payload["user"]["username"]


def test_sign_up_emits_user_signed_up(gql):
    payload = sign_up(gql, PHONE, user_type="DRIVER")
    [event] = events_of("UserSignedUp")
    assert event["data"] == {"userUuid": payload["user"]["uuid"], "userType": "DRIVER"}
    assert PHONE not in str(event)


# Defect 14.2: sign-up did not require a verified number.
def test_sign_up_without_a_code_request_is_refused(gql):
    payload = sign_up_with(gql, code="123456")
    assert codes(payload) == ["INVALID_CODE"]
    assert not User.objects.exists()


def test_wrong_code_is_refused_and_counts(gql):
    code = code_for(gql, PHONE, "SIGN_UP")
    payload = sign_up_with(gql, code="000000" if code != "000000" else "111111")
    assert codes(payload) == ["INVALID_CODE"]
    assert VerificationCode.objects.get().failed_attempts == 1
    assert not User.objects.exists()


def test_sign_in_code_does_not_sign_up(gql):
    code = code_for(gql, PHONE, "SIGN_IN")
    assert codes(sign_up_with(gql, code=code)) == ["INVALID_CODE"]
    assert not User.objects.exists()


def test_expired_code_is_refused(gql, clock):
    code = code_for(gql, PHONE, "SIGN_UP")
    clock.advance(minutes=4)
    assert codes(sign_up_with(gql, code=code)) == ["INVALID_CODE"]
    assert not User.objects.exists()


def test_code_signs_up_only_once(gql):
    code = code_for(gql, PHONE, "SIGN_UP")
    assert sign_up_with(gql, code=code)["errors"] == []
    assert codes(sign_up_with(gql, code=code)) == ["INVALID_CODE"]
    assert User.objects.count() == 1


# Defect 14.2: a registered number answered 400, a bypass number 500 on a repeat.
def test_registered_number_is_taken_and_nothing_is_created(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE, "SIGN_UP")
    payload = sign_up_with(gql, code=code)
    assert codes(payload) == ["PHONE_NUMBER_TAKEN"]
    assert User.objects.count() == 1 and events_of("UserSignedUp") == []
    assert not RefreshTokenFamily.objects.exists()


def test_test_number_cannot_sign_up_twice(gql, test_numbers):
    for expected in ([], ["PHONE_NUMBER_TAKEN"]):
        request_code(gql, "+15550000001", "SIGN_UP")
        payload = sign_up_with(gql, phoneNumber="+15550000001", code="123456")
        assert codes(payload) == expected
    assert User.objects.filter(phone_number="+15550000001").count() == 1


# Defect 14.2: the banned check was commented out, so banned numbers registered again.
def test_banned_number_cannot_sign_up_again(gql):
    target = make_driver(phone_number=PHONE)
    ban = "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }"
    gql(ban, {"uuid": str(target.uuid)}, as_=make_superuser())
    assert codes(request_code(gql, PHONE, "SIGN_UP")) == ["PHONE_NUMBER_BANNED"]
    assert codes(sign_up_with(gql)) == ["PHONE_NUMBER_BANNED"]
    assert User.objects.filter(banned=False).count() == 1  # only the superuser


def test_code_issued_before_a_ban_cannot_sign_up_after_it(gql):
    code = code_for(gql, PHONE, "SIGN_UP")
    target = make_driver(phone_number="+821012349997")
    from modules.user.services import user_ban

    target.phone_number = PHONE  # the number the code was sent to
    target.save()
    user_ban(user_uuid=target.uuid, banned_by_uuid=None)
    assert codes(sign_up_with(gql, code=code)) == ["PHONE_NUMBER_BANNED"]


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"fullName": "K"}, "fullName", "INVALID_FULL_NAME"),
        ({"fullName": "   "}, "fullName", "INVALID_FULL_NAME"),
        ({"fullName": "x" * 101}, "fullName", "INVALID_FULL_NAME"),
        ({"dateOfBirth": "2999-01-01"}, "dateOfBirth", "INVALID_DATE_OF_BIRTH"),
        ({"dateOfBirth": "1850-01-01"}, "dateOfBirth", "INVALID_DATE_OF_BIRTH"),
    ],
)
def test_bad_profile_is_refused_without_using_up_the_code(gql, fields, field, code):
    sent = code_for(gql, PHONE, "SIGN_UP")
    payload = sign_up_with(gql, code=sent, **fields)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert not User.objects.exists()
    assert sign_up_with(gql, code=sent)["errors"] == [], (
        "the code still works after fixing the input"
    )


def test_malformed_date_is_a_graphql_input_error(gql):
    result = gql(
        SIGN_UP,
        {
            "input": {
                "phoneNumber": PHONE,
                "code": "123456",
                "userType": "DRIVER",
                "fullName": "Kim",
                "dateOfBirth": "31/12/1990",
            }
        },
        expect_errors=True,
    )
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


def test_unknown_user_type_is_a_graphql_validation_error(gql):
    result = gql(
        SIGN_UP,
        {
            "input": {
                "phoneNumber": PHONE,
                "code": "123456",
                "userType": "SELLER",
                "fullName": "Kim",
            }
        },
        expect_errors=True,
    )
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


def test_malformed_number_is_invalid_phone_number(gql):
    assert codes(sign_up_with(gql, phoneNumber="01012349998")) == ["INVALID_PHONE_NUMBER"]


# Defect 14.2: no transaction, so a failure half-way left a user behind.
def test_failure_after_the_user_row_leaves_nothing_behind(gql, monkeypatch):
    code = code_for(gql, PHONE, "SIGN_UP")
    outbox_before = OutboxEvent.objects.count()

    def broken_session(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("modules.auth.services.session_start", broken_session)
    result = gql(
        SIGN_UP,
        {
            "input": {
                "phoneNumber": PHONE,
                "code": code,
                "userType": "DRIVER",
                "fullName": "Kim Driver",
            }
        },
        expect_errors=True,
    )
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert not User.objects.exists() and not DriverProfile.objects.exists()
    assert OutboxEvent.objects.count() == outbox_before, (
        "no UserSignedUp for a user that does not exist"
    )
    assert VerificationCode.objects.get().used_at is None, "the code was not used up either"


def test_date_of_birth_is_optional(gql):
    payload = sign_up(gql, PHONE, date_of_birth=None)
    assert payload["errors"] == [] and payload["user"]["dateOfBirth"] is None
