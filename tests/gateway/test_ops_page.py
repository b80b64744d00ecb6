"""/ops/ shows what every project has (health, live events) and the panels its modules contribute
(config/dashboard.py): a module left out of MODULES leaves no trace on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.dashboard import module_panels

MODULES_DIR = Path(django_settings.BASE_DIR) / "modules"


def contributing(modules: list[str]) -> list[str]:
    """The modules that ship a panel (`templates/ops/panels/<module>.html`)."""
    return [m for m in modules if (MODULES_DIR / m / f"templates/ops/panels/{m}.html").exists()]


def test_the_page_includes_each_contributed_panel_and_its_script_before_the_dashboards(client):
    page = client.get("/ops/").content.decode()
    assert 'id="health"' in page and 'id="events"' in page
    for module in contributing(django_settings.MODULES):
        script = f"ops/panels/{module}.js"
        if (MODULES_DIR / module / "static" / script).exists():
            assert page.index(script) < page.index("ops/ops.js"), "panels register first"


@pytest.mark.parametrize("left_out", contributing(django_settings.MODULES) or ["none"])
def test_a_module_not_in_modules_adds_no_panel(client, settings, left_out):
    settings.MODULES = [m for m in settings.MODULES if m != left_out]
    page = client.get("/ops/").content.decode()
    assert f"ops/panels/{left_out}." not in page
    assert 'id="health"' in page and 'id="events"' in page
    assert [p.module for p in module_panels(tuple(settings.MODULES))] == contributing(
        settings.MODULES
    )


def test_the_filter_hints_name_what_every_project_has(client, settings):
    settings.EVENTS_SOURCE_PREFIX = "acme"
    page = client.get("/ops/").content.decode()
    assert 'placeholder="acme.user"' in page and "UserSignedUp" in page
