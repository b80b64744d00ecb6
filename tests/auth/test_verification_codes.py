"""requestVerificationCode: 6-digit codes, sealed in the event, limited per code, number and day."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from events.sealing import SealBroken, open_sealed_code
from modules.auth.models import VerificationCode
from tests.auth.flows import codes, events_of, last_sent_code, request_code
from tests.factories import make_driver

pytestmark = pytest.mark.django_db

PHONE = "+821012345555"


def test_code_request_returns_expiry_three_minutes_ahead(gql, clock):
    payload = request_code(gql, PHONE)
    assert payload["errors"] == []
    expires_at = dt.datetime.fromisoformat(payload["expiresAt"])
    assert expires_at == clock.now + dt.timedelta(minutes=3)


def test_code_is_six_digits_and_travels_sealed_in_the_event(gql):
    make_driver(phone_number=PHONE)
    request_code(gql, PHONE, "SIGN_IN")
    [event] = events_of("VerificationCodeRequested")
    data = event["data"]
    assert set(data) == {"phoneNumber", "purpose", "expiresAt", "sealedCode"}
    assert data["phoneNumber"] == PHONE and data["purpose"] == "SIGN_IN"
    code = open_sealed_code(data["sealedCode"])
    assert re.fullmatch(r"\d{6}", code)
    assert code not in str(event), "the plain code must never appear in the event"


def test_sealed_code_does_not_open_when_tampered_with(gql):
    request_code(gql, PHONE)
    sealed = events_of("VerificationCodeRequested")[0]["data"]["sealedCode"]
    tampered = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(SealBroken):
        open_sealed_code(tampered)


def test_code_is_stored_only_as_a_digest(gql):
    request_code(gql, PHONE)
    code = last_sent_code(PHONE)
    row = VerificationCode.objects.get()
    stored = " ".join(str(value) for value in row.__dict__.values())
    assert code not in stored
    assert PHONE not in stored, "auth keeps numbers only as keyed digests"


def test_code_is_shown_in_the_development_console_after_commit(
    gql, settings, capsys, django_capture_on_commit_callbacks
):
    settings.AUTH_PRINT_VERIFICATION_CODES = True
    with django_capture_on_commit_callbacks(execute=True):
        request_code(gql, PHONE)
    assert f"verification code for {PHONE}: {last_sent_code(PHONE)}" in capsys.readouterr().out


def test_code_is_not_shown_when_printing_is_off(
    gql, settings, capsys, django_capture_on_commit_callbacks
):
    settings.AUTH_PRINT_VERIFICATION_CODES = False
    with django_capture_on_commit_callbacks(execute=True):
        request_code(gql, PHONE)
    assert last_sent_code(PHONE) not in capsys.readouterr().out


# MMD 10.2 #6: a code for a registered number (MMD patched its bypass; here the real path runs).
def test_sign_in_code_for_a_registered_number_is_sent(gql):
    make_driver(phone_number=PHONE)
    assert request_code(gql, PHONE, "SIGN_IN")["errors"] == []
    assert len(events_of("VerificationCodeRequested")) == 1


# MMD 10.2 #7 answered 400 for an unknown number; here the answer is the same as for a known one,
# so the endpoint tells no more than phoneNumberStatus (the code then cannot sign anyone in).
def test_sign_in_code_for_an_unknown_number_gets_the_same_answer(gql):
    make_driver(phone_number=PHONE)
    known = request_code(gql, PHONE, "SIGN_IN")
    unknown = request_code(gql, "+821011111111", "SIGN_IN")
    assert set(known) == set(unknown) and unknown["errors"] == [] and unknown["expiresAt"]


def test_sign_up_code_for_a_registered_number_gets_the_same_answer(gql):
    make_driver(phone_number=PHONE)
    assert request_code(gql, PHONE, "SIGN_UP")["errors"] == []


@pytest.mark.parametrize("phone", ["01012345555", "+1234", "hello"])
def test_malformed_number_is_a_typed_error_and_sends_nothing(gql, phone):
    payload = request_code(gql, phone)
    assert payload["errors"] == [
        {
            "field": "phoneNumber",
            "code": "INVALID_PHONE_NUMBER",
            "message": payload["errors"][0]["message"],
        }
    ]
    assert payload["expiresAt"] is None
    assert not VerificationCode.objects.exists() and events_of("VerificationCodeRequested") == []


# MMD 10.2 #8 / defect 14.3: the daily limit holds without Redis (counted in the database).
def test_sixth_code_in_24_hours_is_rate_limited(gql, clock):
    for _ in range(5):
        assert request_code(gql, PHONE)["errors"] == []
        clock.advance(minutes=1)
    assert codes(request_code(gql, PHONE)) == ["RATE_LIMITED"]
    assert VerificationCode.objects.count() == 5
    assert len(events_of("VerificationCodeRequested")) == 5


def test_daily_limit_is_a_rolling_24_hours(gql, clock):
    for _ in range(5):
        request_code(gql, PHONE)
        clock.advance(hours=1)
    assert codes(request_code(gql, PHONE)) == ["RATE_LIMITED"]
    clock.advance(hours=19, minutes=1)  # the first request is now more than 24 h old
    assert request_code(gql, PHONE)["errors"] == []
    assert codes(request_code(gql, PHONE)) == ["RATE_LIMITED"]


def test_daily_limit_is_per_number(gql):
    for _ in range(5):
        request_code(gql, PHONE)
    assert request_code(gql, "+821012345556")["errors"] == []


def test_codes_per_client_address_are_limited(gql, settings):
    settings.VERIFICATION_CODE_IP_HOURLY_LIMIT = 2
    assert request_code(gql, "+821012340001")["errors"] == []
    assert request_code(gql, "+821012340002")["errors"] == []
    assert codes(request_code(gql, "+821012340003")) == ["RATE_LIMITED"]


def test_banned_number_gets_no_code(gql):
    from modules.user.services import user_ban

    user_ban(user_uuid=make_driver(phone_number=PHONE).uuid, banned_by_uuid=None)
    assert codes(request_code(gql, PHONE)) == ["PHONE_NUMBER_BANNED"]
    assert events_of("VerificationCodeRequested") == []


def test_test_number_gets_its_fixed_code_and_nothing_is_sent(gql, test_numbers, settings, capsys):
    settings.AUTH_PRINT_VERIFICATION_CODES = True
    payload = request_code(gql, "+15550000001")
    assert payload["errors"] == [] and payload["expiresAt"]
    assert events_of("VerificationCodeRequested") == []
    assert "123456" not in capsys.readouterr().out


def test_fictional_numbers_are_refused_unless_configured_as_test_numbers(gql):
    assert codes(request_code(gql, "+15550000001")) == ["INVALID_PHONE_NUMBER"]


def test_request_is_an_anyone_operation_even_with_a_signed_in_caller(gql):
    payload = gql(
        'mutation { requestVerificationCode(phoneNumber: "+821012345555", purpose: SIGN_IN) '
        "{ errors { code } } }",
        as_=make_driver(),
    )["data"]["requestVerificationCode"]
    assert payload["errors"] == []


def test_expiry_is_reported_in_utc(gql):
    expires_at = dt.datetime.fromisoformat(request_code(gql, PHONE)["expiresAt"])
    assert expires_at.utcoffset() == dt.timedelta(0)
    assert expires_at > timezone.now()


def test_codes_are_never_printed_in_production(
    gql, settings, capsys, django_capture_on_commit_callbacks
):
    settings.AUTH_PRINT_VERIFICATION_CODES = (
        True  # the settings refuse this; the service checks too
    )
    settings.IS_PRODUCTION = True
    settings.EVENTS_SEALING_KEY = "a-production-sealing-key"
    with django_capture_on_commit_callbacks(execute=True):
        request_code(gql, PHONE)
    assert last_sent_code(PHONE) not in capsys.readouterr().out


def test_sealing_needs_a_key_in_production(settings):
    from django.core.exceptions import ImproperlyConfigured

    from events.sealing import seal

    settings.IS_PRODUCTION = True
    settings.EVENTS_SEALING_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        seal("123456")


def test_code_sealed_under_one_key_does_not_open_under_another(gql, settings):
    request_code(gql, PHONE)
    sealed = events_of("VerificationCodeRequested")[0]["data"]["sealedCode"]
    settings.EVENTS_SEALING_KEY = "the-notifier-has-a-different-key"
    with pytest.raises(SealBroken):
        open_sealed_code(sealed)
