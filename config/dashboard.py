"""The ops dashboard (/ops/): a static page; everything it shows comes through /graphql/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from schema.transports.page_policy import content_security_policy


def ops_dashboard(request: HttpRequest) -> HttpResponse:
    response = render(request, "ops/dashboard.html", {"endpoint": "/graphql/"})
    response["Content-Security-Policy"] = content_security_policy(request.get_host())
    response["Cache-Control"] = "no-store"
    return response
