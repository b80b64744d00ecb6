"""The Content-Security-Policy of the pages the server renders (GraphiQL, /ops/).

Both keep an access token in localStorage: no script but the server's own may ever run on them,
and they may talk only to this origin, over HTTP and its websocket.
"""

from __future__ import annotations


def content_security_policy(host: str) -> str:
    """Only this server's own assets; connections only to it (`host` as the request named it)."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self' data:; connect-src 'self' ws://{host} wss://{host}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"
    )
