"""Production refuses to start with insecure defaults and names the setting that is wrong."""

import os
import subprocess
import sys

from django.conf import settings


def start_django(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "AUTH_", "SECRET_KEY", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
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
