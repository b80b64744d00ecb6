"""The ops dashboard (/ops/): a static page; everything it shows comes through /graphql/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def content_security_policy(host: str) -> str:
    """The page keeps an access token in localStorage: no script but our own may ever run on it."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def ops_dashboard(request: HttpRequest) -> HttpResponse:
    response = render(request, "ops/dashboard.html", {"endpoint": "/graphql/"})
    response["Content-Security-Policy"] = content_security_policy(request.get_host())
    response["Cache-Control"] = "no-store"
    return response
