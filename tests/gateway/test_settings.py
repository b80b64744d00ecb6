"""Production refuses to start with insecure defaults and names the setting that is wrong; once
started, it sends its cookies and responses as HTTPS deployments should."""

import hashlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.secret_keys import development_secret_key

# Variables of ours the settings read, kept out of the child unless a test sets them.
OWN_VARIABLES = (
    "DJANGO_",
    "AUTH_",
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "BANNED_PHONE_DIGEST_KEY",
    "EVENTS_SEALING_",
    "NOTIFICATIONS_FILE",
    "DEBUG",
    "TRUSTED_PROXY_",
    "SECURE_",
)
# Strong and distinct, made afresh for each run: production accepts nothing weaker.
SECRET_KEY = secrets.token_urlsafe(40)
SEALING_KEY = secrets.token_urlsafe(40)
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": SECRET_KEY,
    "EVENTS_SEALING_KEY": SEALING_KEY,
}
# The development default this repository used to print: public, so never a secret.
FORMER_PUBLIC_DEFAULT = "insecure-development-key-change-me-0123456789abcdef"
# One TLS-terminating proxy in front, which also appends the client's address to X-Forwarded-For.
BEHIND_A_TLS_PROXY = {"TRUSTED_PROXY_TLS": "1", "TRUSTED_PROXY_HOPS": "1"}


def start_django(code: str = "print('started')", **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_an_unset_secret_key():
    result = start_django(DJANGO_ENV="production", EVENTS_SEALING_KEY=SEALING_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_never_makes_a_development_key():
    # The checkout's key file may exist already: what counts is that production never asks.
    code = (
        "import config.secret_keys as keys\n"
        "def refuse(path): raise SystemExit('development key asked for')\n"
        "keys.development_secret_key = refuse\n"
        "import django; django.setup()\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "production"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "development key asked for" not in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_test_phone_numbers_and_debug():
    result = start_django(**PRODUCTION, DEBUG="true", AUTH_TEST_PHONE_NUMBERS="+15550000001:123456")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
    assert "AUTH_TEST_PHONE_NUMBERS" in result.stderr
    assert SECRET_KEY not in result.stderr  # the secret itself is never echoed


def test_production_starts_when_configured():
    result = start_django(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_starts_with_every_secret_of_its_own():
    result = start_django(
        **PRODUCTION,
        JWT_SIGNING_KEY=secrets.token_urlsafe(40),
        BANNED_PHONE_DIGEST_KEY=secrets.token_hex(32),
    )
    assert result.returncode == 0, result.stderr


WEAK_SECRETS = {
    "one character": "x",
    "short": secrets.token_hex(15),  # 30 characters
    "one character repeated": "k" * 50,
    "a piece repeated": "Ab3$" * 10,
    "few distinct characters": "0" * 39 + "123456",  # 7 distinct
    "the former development default": FORMER_PUBLIC_DEFAULT,
    "Django's project template": "django-insecure-" + secrets.token_urlsafe(40),
    "a placeholder": f"please-change-me-{secrets.token_hex(16)}",
}


@pytest.mark.parametrize("name", ["SECRET_KEY", *("JWT_SIGNING_KEY", "BANNED_PHONE_DIGEST_KEY")])
@pytest.mark.parametrize("value", list(WEAK_SECRETS.values()), ids=list(WEAK_SECRETS))
def test_production_refuses_a_weak_secret_naming_it_but_not_its_value(name, value):
    result = start_django(**{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert f"{name} is " in result.stderr
    if len(value) >= 8:  # shorter ones occur in any text by chance
        assert value not in result.stderr


@pytest.mark.parametrize(
    "value",
    [WEAK_SECRETS[k] for k in ("one character", "short", "one character repeated")],
    ids=["one character", "short", "one character repeated"],
)
def test_production_refuses_a_weak_sealing_key(value):
    result = start_django(**{**PRODUCTION, "EVENTS_SEALING_KEY": value})
    assert result.returncode != 0
    assert "EVENTS_SEALING_KEY is " in result.stderr


def test_a_forged_token_needs_more_than_a_guessable_signing_key():
    # The attack: JWT_SIGNING_KEY=x let anyone sign tokens for any user. Production now refuses x.
    result = start_django(**PRODUCTION, JWT_SIGNING_KEY="x")
    assert result.returncode != 0 and "JWT_SIGNING_KEY is shorter than 32" in result.stderr


@pytest.mark.parametrize(
    "shared",
    [
        {"JWT_SIGNING_KEY": SECRET_KEY},
        {"BANNED_PHONE_DIGEST_KEY": SECRET_KEY},
        {"EVENTS_SEALING_KEY": SECRET_KEY},
        # The notification function holds the sealing key: it must not sign sign-ins too.
        {"JWT_SIGNING_KEY": SEALING_KEY},
    ],
    ids=["jwt=secret", "banned=secret", "sealing=secret", "jwt=sealing"],
)
def test_production_refuses_one_value_for_two_secrets(shared):
    result = start_django(**{**PRODUCTION, **shared})
    assert result.returncode != 0
    assert "(each secret must be its own)" in result.stderr
    assert SECRET_KEY not in result.stderr and SEALING_KEY not in result.stderr


def test_production_refuses_a_notifications_file(tmp_path):
    result = start_django(**PRODUCTION, NOTIFICATIONS_FILE=str(tmp_path / "notifications.jsonl"))
    assert result.returncode != 0
    assert "NOTIFICATIONS_FILE" in result.stderr
    assert not (tmp_path / "notifications.jsonl").exists()


# --- the development SECRET_KEY: random per checkout, shared by its processes --------------------


def test_the_development_secret_key_is_random_per_checkout(tmp_path):
    first = development_secret_key(tmp_path / "one" / ".secrets" / "development-secret-key")
    second = development_secret_key(tmp_path / "two" / ".secrets" / "development-secret-key")
    assert first != second
    assert len(first) >= 32 and FORMER_PUBLIC_DEFAULT not in (first, second)


def test_the_development_secret_key_is_kept_private_and_stable(tmp_path):
    path = tmp_path / ".secrets" / "development-secret-key"
    key = development_secret_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert development_secret_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file is left"


READ_KEY = (
    "import hashlib, sys; from pathlib import Path; "
    "from config.secret_keys import development_secret_key; "
    "print(hashlib.sha256(development_secret_key(Path(sys.argv[1])).encode()).hexdigest())"
)


def test_processes_starting_together_agree_on_the_development_secret_key(tmp_path):
    path = tmp_path / ".secrets" / "development-secret-key"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", READ_KEY, str(path)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    digests = {child.communicate(timeout=60)[0].strip() for child in children}
    assert digests == {hashlib.sha256(path.read_text().strip().encode()).hexdigest()}


def test_every_development_process_reads_the_checkouts_key():
    code = "import hashlib; print(hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest())"
    code = "from django.conf import settings; " + code
    first, second = start_django(code), start_django(code, DJANGO_ENV="test")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    key = Path(settings.BASE_DIR, ".secrets", "development-secret-key").read_text().strip()
    assert (
        first.stdout.split() == second.stdout.split() == [hashlib.sha256(key.encode()).hexdigest()]
    )


def test_the_development_sealing_key_does_not_open_with_public_values(settings):
    from events.sealing import SealBroken, open_sealed_code, seal

    settings.EVENTS_SEALING_KEY = ""  # development: derived from this checkout's SECRET_KEY
    assert settings.SECRET_KEY != FORMER_PUBLIC_DEFAULT
    sealed = seal("123456")
    assert open_sealed_code(sealed) == "123456"
    settings.SECRET_KEY = FORMER_PUBLIC_DEFAULT  # what anyone reading the repository knew
    with pytest.raises(SealBroken):
        open_sealed_code(sealed)


def test_the_development_key_file_is_never_committed():
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".secrets/development-secret-key"],
        cwd=settings.BASE_DIR,
        capture_output=True,
    )
    if result.returncode == 128:
        pytest.skip("not a git checkout")
    assert result.returncode == 0, "the key file must be git-ignored"


def test_development_defaults_start():
    result = start_django()
    assert result.returncode == 0, result.stderr


# --- HTTPS: cookies, HSTS, the proxy's word on the scheme ---------------------------------------

# A request as a TLS-terminating proxy forwards it (over plain HTTP, X-Forwarded-Proto: https).
FORWARDED_HTTPS_REQUEST = """
from django.conf import settings as s
from django.test import Client
response = Client().get("/healthz", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "hsts": response.headers.get("Strict-Transport-Security"),
    "nosniff": response.headers.get("X-Content-Type-Options"),
    "session_cookie_secure": s.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": s.CSRF_COOKIE_SECURE,
    "proxy_ssl_header": s.SECURE_PROXY_SSL_HEADER,
}))
"""


def seen_by_a_client(**env: str) -> dict:
    # /healthz runs `SELECT 1`: an in-memory database leaves no file behind.
    env = {"DATABASE_URL": "sqlite://:memory:", **env}
    result = start_django("import json; " + FORWARDED_HTTPS_REQUEST.strip(), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_behind_a_tls_proxy_sends_hsts_and_secure_cookies():
    seen = seen_by_a_client(**PRODUCTION, **BEHIND_A_TLS_PROXY)
    assert seen == {
        "hsts": "max-age=31536000",
        "nosniff": "nosniff",
        "session_cookie_secure": True,
        "csrf_cookie_secure": True,
        "proxy_ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_production_ignores_x_forwarded_proto_unless_told_a_proxy_sets_it():
    # A client could send the header itself: without the operator's word it proves nothing.
    seen = seen_by_a_client(**PRODUCTION)
    assert seen["proxy_ssl_header"] is None
    assert seen["hsts"] is None  # Django sends HSTS on HTTPS requests only
    assert seen["session_cookie_secure"] and seen["csrf_cookie_secure"]


def test_hsts_lifetime_is_configurable_and_zero_turns_it_off():
    seen = seen_by_a_client(**PRODUCTION, **BEHIND_A_TLS_PROXY, SECURE_HSTS_SECONDS="3600")
    assert seen["hsts"] == "max-age=3600"
    seen = seen_by_a_client(**PRODUCTION, **BEHIND_A_TLS_PROXY, SECURE_HSTS_SECONDS="0")
    assert seen["hsts"] is None


def test_production_refuses_a_malformed_hsts_lifetime():
    for value in ("a year", "-1"):
        result = start_django(**PRODUCTION, SECURE_HSTS_SECONDS=value)
        assert result.returncode != 0
        assert "SECURE_HSTS_SECONDS" in result.stderr


def test_production_refuses_a_tls_proxy_whose_forwarded_addresses_are_ignored():
    # Every client would then share the proxy's address, and its rate limits with it.
    for hops in ({}, {"TRUSTED_PROXY_HOPS": "0"}):
        result = start_django(**PRODUCTION, TRUSTED_PROXY_TLS="1", **hops)
        assert result.returncode != 0
        assert "TRUSTED_PROXY_HOPS" in result.stderr and "TRUSTED_PROXY_TLS" in result.stderr


def test_production_refuses_a_malformed_proxy_hop_count():
    for value in ("one", "1.5", "-1"):
        result = start_django(**PRODUCTION, **{**BEHIND_A_TLS_PROXY, "TRUSTED_PROXY_HOPS": value})
        assert result.returncode != 0, value
        assert "TRUSTED_PROXY_HOPS" in result.stderr, value


def test_production_counts_client_addresses_through_the_proxies_it_is_told_of():
    # Two proxies: the client's address is the entry the outer one appended (a client's own
    # X-Forwarded-For entries come before it and are not believed).
    code = (
        "from django.test import RequestFactory; "
        "from modules.auth.api import client_address_from; "
        "request = RequestFactory().get('/', REMOTE_ADDR='10.0.0.2', "
        "HTTP_X_FORWARDED_FOR='6.6.6.6, 203.0.113.7, 10.0.0.1'); "
        "print(client_address_from(request.META['REMOTE_ADDR'], "
        "request.META['HTTP_X_FORWARDED_FOR']))"
    )
    result = start_django(code, **PRODUCTION, TRUSTED_PROXY_TLS="1", TRUSTED_PROXY_HOPS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["203.0.113.7"]


def test_development_keeps_plain_http_defaults():
    seen = seen_by_a_client()
    assert seen["hsts"] is None and seen["proxy_ssl_header"] is None
    assert not seen["session_cookie_secure"] and not seen["csrf_cookie_secure"]


@pytest.mark.parametrize("value", ["on", "required", "1"])
def test_an_unknown_trusted_documents_mode_stops_the_start_naming_the_choices(value):
    result = start_django(GRAPHQL_TRUSTED_DOCUMENTS=value)
    assert result.returncode != 0
    assert "GRAPHQL_TRUSTED_DOCUMENTS must be off, allow or require" in result.stderr


def test_the_trusted_documents_mode_is_read_case_blind_and_off_by_default():
    code = "from django.conf import settings; print(settings.GRAPHQL_TRUSTED_DOCUMENTS)"
    assert start_django(code).stdout.strip() == "off"
    assert start_django(code, GRAPHQL_TRUSTED_DOCUMENTS=" Require ").stdout.strip() == "require"
