"""compose.yaml and the Dockerfile run what the Procfile runs (tests/stack/test_process_model.py
tests those commands in real processes), with settings the project reads.

No container engine exists where CI runs: the image is never built there. `make lint` runs
hadolint on the Dockerfile; this holds both files to the tested process model.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stack.processes import procfile

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "gateway", "relay", "jobs")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def settings_read() -> set[str]:
    """Every environment variable config/settings.py and config/gunicorn.py read."""
    names: set[str] = set()
    settings = (ROOT / "config" / "settings.py").read_text()
    names |= set(re.findall(r"env_(?:str|int|bool)\(\s*\"([A-Z0-9_]+)\"", settings))
    gunicorn = (ROOT / "config" / "gunicorn.py").read_text()
    names |= set(re.findall(r"os\.environ(?:\.get|\.setdefault)?[\(\[]\"([A-Z0-9_]+)\"", gunicorn))
    return names


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n\s*", " ", text)
    stages: list[list[str]] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) :].strip() for line in stage if line.upper().startswith(name + " ")]


def test_compose_runs_the_gateway_the_relay_postgresql_and_redis(services):
    assert {"gateway", "relay", "jobs", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_compose_runs_the_procfiles_commands_from_the_one_image(services):
    commands = procfile()
    assert set(commands) == {"web", "relay", "jobs"}
    assert services["gateway"]["command"] == shlex.split(commands["web"])
    assert services["relay"]["command"] == shlex.split(commands["relay"])
    assert services["jobs"]["command"] == shlex.split(commands["jobs"])
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1 and all(services[name]["build"] == "." for name in APP_SERVICES)
    # The image's own default is the gateway's command too.
    cmd = instruction(dockerfile_stages()[-1], "CMD")
    assert [json.loads(c) for c in cmd] == [shlex.split(commands["web"])]


def test_compose_sets_only_settings_the_project_reads(services):
    read = settings_read()
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - read
        assert not unknown, f"{name} sets {sorted(unknown)}, which nothing reads"


def test_compose_runs_production_settings_with_the_stacks_shared_services(services):
    gateway, relay = services["gateway"]["environment"], services["relay"]["environment"]
    for env in (gateway, relay):
        assert env["DJANGO_ENV"] == "production"
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        # Secrets come from whoever starts the stack, never from the file (production refuses
        # a missing or weak one).
        for secret in ("SECRET_KEY", "EVENTS_SEALING_KEY"):
            assert env[secret].startswith("${" + secret + ":?"), secret
    assert gateway["EVENTS_RELAY_IN_PROCESS"] == "0"
    assert int(gateway["WEB_CONCURRENCY"]) >= 2
    assert gateway["HOST"] == "0.0.0.0"
    assert services["gateway"]["ports"] == [f"{gateway['PORT']}:{gateway['PORT']}"]


def test_compose_starts_the_processes_after_migrations_and_their_services(services):
    for name in ("gateway", "relay"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    # The relay has no HTTP server: the image's /healthz check would mark it unhealthy.
    assert services["relay"]["healthcheck"] == {"disable": True}


def test_the_image_is_multi_stage_slim_non_root_with_static_files_and_a_health_check():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base is not None and re.fullmatch(r"python:3\.\d+-slim(-\w+)?", base.group(1))
    build, runtime = stages[0], stages[-1]
    assert any("collectstatic" in run for run in instruction(build, "RUN"))
    # The final stage installs nothing: what it runs was built in the first.
    assert not any(
        re.search(r"apt-get install|pip install|gcc|build-essential", run)
        for run in instruction(runtime, "RUN")
    )
    assert any(c.startswith("--from=build /opt/venv") for c in instruction(runtime, "COPY"))
    (user,) = instruction(runtime, "USER")
    assert user.split(":")[0] not in {"0", "root"}
    (healthcheck,) = instruction(runtime, "HEALTHCHECK")
    assert "/healthz" in healthcheck
    env = " ".join(instruction(runtime, "ENV"))
    assert "DJANGO_ENV=production" in env and "EVENTS_RELAY_IN_PROCESS=0" in env


def test_make_serve_prod_runs_the_procfile_with_production_settings():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nserve-prod: install\n", 1)[1].split("\n\n", 1)[0]
    assert "honcho start -f Procfile" in recipe
    assert "serve-prod: export DJANGO_ENV ?= production" in makefile
    assert "serve-prod: export EVENTS_RELAY_IN_PROCESS = 0" in makefile
