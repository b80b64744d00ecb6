"""signInWithCode: passwordless sign-in; each code works once, for 3 minutes, for 5 tries."""

import pytest

from modules.auth.models import RefreshTokenFamily, VerificationCode
from tests.auth.flows import (
    ME,
    SIGN_IN_WITH_CODE,
    code_for,
    codes,
    request_code,
    sign_in_with_code,
)
from tests.factories import make_driver

pytestmark = pytest.mark.django_db

PHONE = "+821012345555"


def attempt(gql, code, phone=PHONE):
    return gql(SIGN_IN_WITH_CODE, {"phone": phone, "code": code})["data"]["signInWithCode"]


def wrong(code):
    return "000000" if code != "000000" else "111111"


# MMD 10.2 #12
def test_right_code_signs_in_and_the_tokens_work(gql):
    user = make_driver(phone_number=PHONE)
    payload = sign_in_with_code(gql, PHONE)
    assert payload["errors"] == []
    assert payload["user"]["uuid"] == str(user.uuid)
    assert payload["accessToken"] and payload["refreshToken"]
    me = gql(ME, as_=f"Bearer {payload['accessToken']}")["data"]["me"]
    assert me["uuid"] == str(user.uuid)


# MMD 10.2 #13
def test_wrong_code_is_invalid_code(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    payload = attempt(gql, wrong(code))
    assert codes(payload) == ["INVALID_CODE"]
    assert payload["accessToken"] is None and payload["user"] is None
    assert not RefreshTokenFamily.objects.exists()


# MMD 10.2 #9 (no token) and #10 (a token of the wrong length): typed errors, not 400 strings.
def test_missing_code_argument_is_a_validation_error(gql):
    result = gql(
        'mutation { signInWithCode(phoneNumber: "+821012345555") { errors { code } } }',
        expect_errors=True,
    )
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]


FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"  # isdigit() is True for these


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 456", FULLWIDTH_DIGITS])
def test_malformed_code_is_invalid_code_and_counts_as_a_try(gql, bad):
    make_driver(phone_number=PHONE)
    code_for(gql, PHONE)
    assert codes(attempt(gql, bad)) == ["INVALID_CODE"]
    assert VerificationCode.objects.get().failed_attempts == 1


# MMD 10.2 #11: a number whose only code is long expired (the one answer for every failure).
def test_code_older_than_three_minutes_is_refused(gql, clock):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    clock.advance(minutes=3, seconds=1)
    assert codes(attempt(gql, code)) == ["INVALID_CODE"]
    assert not RefreshTokenFamily.objects.exists()


def test_code_just_inside_three_minutes_works(gql, clock):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    clock.advance(minutes=2, seconds=59)
    assert attempt(gql, code)["errors"] == []


def test_no_code_requested_is_invalid_code(gql):
    make_driver(phone_number=PHONE)
    assert codes(attempt(gql, "123456")) == ["INVALID_CODE"]


# MMD 10.2 #14 answered 401 with an empty body; here a typed error, told only to the code holder.
def test_right_code_for_a_number_without_an_account_is_not_registered(gql):
    code = code_for(gql, "+821011111111")
    payload = attempt(gql, code, phone="+821011111111")
    assert codes(payload) == ["PHONE_NUMBER_NOT_REGISTERED"]
    assert not RefreshTokenFamily.objects.exists()


# Defect 14.3: no per-code attempt limit.
def test_five_wrong_tries_use_the_code_up(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    for _ in range(5):
        assert codes(attempt(gql, wrong(code))) == ["INVALID_CODE"]
    assert codes(attempt(gql, code)) == ["INVALID_CODE"], "the right code no longer works"
    assert not RefreshTokenFamily.objects.exists()


def test_fourth_wrong_try_still_leaves_the_right_code_working(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    for _ in range(4):
        attempt(gql, wrong(code))
    assert attempt(gql, code)["errors"] == []


def test_a_new_code_replaces_the_old_one(gql):
    make_driver(phone_number=PHONE)
    first = code_for(gql, PHONE)
    second = code_for(gql, PHONE)
    if first != second:
        assert codes(attempt(gql, first)) == ["INVALID_CODE"]
    assert attempt(gql, second)["errors"] == []


def test_code_works_once(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    assert attempt(gql, code)["errors"] == []
    assert codes(attempt(gql, code)) == ["INVALID_CODE"]


def test_sign_up_code_does_not_sign_in(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE, "SIGN_UP")
    assert codes(attempt(gql, code)) == ["INVALID_CODE"]


def test_malformed_number_is_invalid_phone_number(gql):
    assert codes(attempt(gql, "123456", phone="01012345555")) == ["INVALID_PHONE_NUMBER"]


def test_deactivated_user_cannot_sign_in(gql):
    user = make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    user.is_active = False
    user.save()
    assert codes(attempt(gql, code)) == ["PHONE_NUMBER_NOT_REGISTERED"]


# Defect 14.3: bypass numbers skipped the code entirely, in every environment.
def test_test_number_signs_in_with_its_fixed_code_after_a_request(gql, test_numbers):
    user = make_driver(phone_number="+15550000001")
    assert codes(attempt(gql, "123456", phone="+15550000001")) == ["INVALID_CODE"], (
        "a request comes first"
    )
    assert request_code(gql, "+15550000001")["errors"] == []
    assert codes(attempt(gql, "654321", phone="+15550000001")) == ["INVALID_CODE"]
    payload = attempt(gql, "123456", phone="+15550000001")
    assert payload["errors"] == [] and payload["user"]["uuid"] == str(user.uuid)


def test_without_the_setting_a_test_number_is_an_ordinary_number(gql, settings):
    settings.AUTH_TEST_PHONE_NUMBERS = ""
    assert codes(attempt(gql, "123456", phone="+15550000001")) == ["INVALID_PHONE_NUMBER"]


# --- attack: telling from the answers whether a code is pending ----------------------------------


def full_answer(payload):
    return [(e["field"], e["code"], e["message"]) for e in payload["errors"]]


def test_every_failed_code_gets_the_same_answer_so_nothing_is_learnt(gql, clock):
    """A guesser compares answers: no code pending (registered or not), a wrong code, an expired
    one, one whose tries are used up, a SIGN_UP code. All read alike (field, code and message)."""
    make_driver(phone_number=PHONE)
    answers = {
        "registered, nothing pending": attempt(gql, "123456"),
        "unregistered, nothing pending": attempt(gql, "123456", phone="+821099998888"),
    }
    code = code_for(gql, PHONE)
    answers["wrong code"] = attempt(gql, wrong(code))
    answers["malformed code"] = attempt(gql, "12")
    for _ in range(3):
        attempt(gql, wrong(code))
    answers["last try"] = attempt(gql, wrong(code))
    answers["tries used up"] = attempt(gql, code)
    sign_up_code = code_for(gql, "+821077776666", "SIGN_UP")
    answers["sign-up code"] = attempt(gql, sign_up_code, phone="+821077776666")
    expiring = code_for(gql, "+821066665555")
    clock.advance(minutes=4)
    answers["expired"] = attempt(gql, expiring, phone="+821066665555")
    shown = {name: full_answer(payload) for name, payload in answers.items()}
    expected = [("code", "INVALID_CODE", "This code is not valid. Check it, or request a new one.")]
    assert shown == dict.fromkeys(answers, expected)
    assert not RefreshTokenFamily.objects.exists()


def test_attempts_still_count_although_the_answer_says_nothing_of_them(gql):
    make_driver(phone_number=PHONE)
    code = code_for(gql, PHONE)
    for n in range(1, 6):
        attempt(gql, wrong(code))
        assert VerificationCode.objects.get().failed_attempts == n
    attempt(gql, code)  # refused: past the limit the right code counts for nothing
    assert VerificationCode.objects.get().failed_attempts == 5
    assert VerificationCode.objects.get().used_at is None
