"""How the project starts servers: only the app reads forwarding headers (X-Forwarded-*).

tests/live/test_client_addresses.py checks real uvicorn and gunicorn servers; this checks the
configuration itself, quickly.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.py"))


def test_gunicorn_binds_host_and_port_and_runs_web_concurrency_workers(monkeypatch):
    defaults = gunicorn_settings(monkeypatch)
    assert defaults["bind"] == ["127.0.0.1:8000"] and defaults["workers"] == 1
    chosen = gunicorn_settings(monkeypatch, HOST="0.0.0.0", PORT="9000", WEB_CONCURRENCY="4")
    assert chosen["bind"] == ["0.0.0.0:9000"] and chosen["workers"] == 4
    assert gunicorn_settings(monkeypatch, HOST="::")["bind"] == ["[::]:8000"]


def test_gunicorn_workers_leave_forwarding_headers_to_the_app(monkeypatch):
    from config.gunicorn_worker import UvicornWorker

    settings = gunicorn_settings(monkeypatch)
    assert settings["worker_class"] == "config.gunicorn_worker.UvicornWorker"
    assert UvicornWorker.CONFIG_KWARGS["proxy_headers"] is False
    assert settings["forwarded_allow_ips"] == "" and settings["secure_scheme_headers"] == {}
    assert settings["control_socket_disable"] is True  # no shared ~/.gunicorn/gunicorn.ctl


def test_make_run_starts_uvicorn_without_its_proxy_header_handling():
    from config.devserver import uvicorn_config

    recipe = (ROOT / "Makefile").read_text().split("\nrun: install\n", 1)[1].split("\n\n", 1)[0]
    assert "-m config.devserver serve" in recipe
    config = uvicorn_config("127.0.0.1", 8000)
    assert config.app == "config.asgi:application"
    assert config.proxy_headers is False and config.access_log is False
