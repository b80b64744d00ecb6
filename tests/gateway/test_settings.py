"""Production refuses to start with insecure defaults and names the setting that is wrong; once
started, it sends its cookies and responses as HTTPS deployments should."""

import json
import os
import subprocess
import sys

from django.conf import settings

# Variables of ours the settings read, kept out of the child unless a test sets them.
OWN_VARIABLES = ("DJANGO_", "AUTH_", "SECRET_KEY", "DEBUG", "TRUSTED_PROXY_", "SECURE_")
PRODUCTION = {"DJANGO_ENV": "production", "SECRET_KEY": "k" * 50, "EVENTS_SEALING_KEY": "s" * 44}
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


def test_production_refuses_the_development_secret_key():
    result = start_django(DJANGO_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_test_phone_numbers_and_debug():
    result = start_django(
        DJANGO_ENV="production",
        SECRET_KEY="k" * 50,
        EVENTS_SEALING_KEY="s" * 44,
        DEBUG="true",
        AUTH_TEST_PHONE_NUMBERS="+15550000001:123456",
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
    assert "AUTH_TEST_PHONE_NUMBERS" in result.stderr
    assert "k" * 50 not in result.stderr  # the secret itself is never echoed


def test_production_starts_when_configured():
    result = start_django(DJANGO_ENV="production", SECRET_KEY="k" * 50, EVENTS_SEALING_KEY="s" * 44)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


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
        "from modules.auth.rate_limits import client_address; "
        "request = RequestFactory().get('/', REMOTE_ADDR='10.0.0.2', "
        "HTTP_X_FORWARDED_FOR='6.6.6.6, 203.0.113.7, 10.0.0.1'); "
        "print(client_address(request))"
    )
    result = start_django(code, **PRODUCTION, TRUSTED_PROXY_TLS="1", TRUSTED_PROXY_HOPS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["203.0.113.7"]


def test_development_keeps_plain_http_defaults():
    seen = seen_by_a_client()
    assert seen["hsts"] is None and seen["proxy_ssl_header"] is None
    assert not seen["session_cookie_secure"] and not seen["csrf_cookie_secure"]
