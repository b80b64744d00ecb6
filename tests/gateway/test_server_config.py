"""How the project starts servers: only the app reads forwarding headers (X-Forwarded-*).

tests/live/test_client_addresses.py checks real uvicorn and gunicorn servers; this checks the
configuration itself, quickly.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables config/gunicorn.py sets for the app it loads.
CONFIG_SETS = ("EVENTS_RELAY_IN_PROCESS", "JOBS_WORKER_IN_PROCESS", "PROMETHEUS_MULTIPROC_DIR")


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", *CONFIG_SETS):
        # Set first, so that monkeypatch restores the original even where the config file sets
        # the variable itself (os.environ of this process, which later servers inherit).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
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


def test_gunicorn_preloads_the_app_and_leaves_relaying_to_the_relay_workers(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["preload_app"] is True
    assert os.environ["EVENTS_RELAY_IN_PROCESS"] == "0"  # read by the app it then loads
    # Asked for explicitly, each worker relays in a thread of its own, which a thread started in
    # a preloading master would not give them.
    relaying = gunicorn_settings(monkeypatch, EVENTS_RELAY_IN_PROCESS="1")
    assert relaying["preload_app"] is False
    assert os.environ["EVENTS_RELAY_IN_PROCESS"] == "1"


def test_gunicorn_gives_prometheus_a_fresh_multiprocess_folder_unless_one_is_set(
    monkeypatch, tmp_path
):
    gunicorn_settings(monkeypatch)
    first = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    gunicorn_settings(monkeypatch)
    second = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert first != second and first.is_dir() and list(second.iterdir()) == []
    first.rmdir()
    second.rmdir()
    gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_a_dead_workers_live_gauges_are_dropped(monkeypatch, tmp_path):
    settings = gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for kind in ("gauge_livesum_1234", "gauge_livesum_5678", "counter_1234"):
        (tmp_path / f"{kind}.db").write_bytes(b"")

    class Worker:
        pid = 1234

    settings["child_exit"](None, Worker())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_1234.db",
        "gauge_livesum_5678.db",
    ]


def test_shutdown_fits_in_a_containers_stop_timeout(monkeypatch):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from config.gunicorn_worker import UvicornWorker

    settings = gunicorn_settings(monkeypatch)
    # ECS and compose give 30 s between SIGTERM and SIGKILL; uvicorn gives up a second sooner.
    assert settings["graceful_timeout"] < 30
    assert settings["keepalive"] > 60  # past an ALB's idle timeout: the balancer closes first
    cfg = Config()
    cfg.set("graceful_timeout", settings["graceful_timeout"])
    worker = UvicornWorker(0, os.getpid(), [], None, 30, cfg, Logger(cfg))
    try:
        # uvicorn cancels what still runs before gunicorn would kill the worker mid-response.
        assert worker.config.timeout_graceful_shutdown == settings["graceful_timeout"] - 1
    finally:
        worker.tmp.close()
