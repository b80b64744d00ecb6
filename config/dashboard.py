"""The ops dashboard (/ops/): a static page; everything it shows comes through /graphql/.

The page itself shows what every project has (health, the live event stream); a module adds a panel
of its own by shipping `templates/ops/panels/<module>.html` (and, for its behaviour,
`static/ops/panels/<module>.js`, see config/static/ops/ops.js). The page includes the panels of the
modules in MODULES, in that order, so it assumes no module beyond those it always has.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from schema.transports.page_policy import content_security_policy


@dataclass(frozen=True)
class Panel:
    module: str
    template: str
    script: str | None  # a static path, when the module ships one


@cache
def module_panels(modules: tuple[str, ...]) -> tuple[Panel, ...]:
    """The panels the modules contribute, in MODULES order (the files do not move at run time)."""
    panels = []
    for module in modules:
        template = f"ops/panels/{module}.html"
        try:
            get_template(template)
        except TemplateDoesNotExist:
            continue
        script = f"ops/panels/{module}.js"
        panels.append(Panel(module, template, script if finders.find(script) else None))
    return tuple(panels)


def ops_dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "endpoint": "/graphql/",
        "panels": module_panels(tuple(settings.MODULES)),
        # Filter hints that name what every project has: the user module's events.
        "example_detail_types": "UserSignedUp, UserBanned",
        "example_source": f"{settings.EVENTS_SOURCE_PREFIX}.user",
    }
    response = render(request, "ops/dashboard.html", context)
    response["Content-Security-Policy"] = content_security_policy(request.get_host())
    response["Cache-Control"] = "no-store"
    return response
