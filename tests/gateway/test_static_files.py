"""/static/ as the pages load it: after collectstatic, hashed names that browsers keep for a year
and compressed copies for those that accept them; before it, the plain files, still served."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

SCRIPT = re.compile(r'src="(/static/graphiql/vendor/graphiql\.min[^"]*\.js)"')
ONE_YEAR = 365 * 24 * 3600


def graphiql_script_url(client: Client) -> str:
    page = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    found = SCRIPT.search(page.content.decode())
    assert found, page.content[:2000]
    return found[1]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def collected(tmp_path: Path):
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield tmp_path


def test_collected_files_are_hashed_compressed_and_cached_for_a_year(collected):
    client = Client()  # a new handler: WhiteNoise indexes the collected files as it starts
    url = graphiql_script_url(client)
    assert re.fullmatch(r"/static/graphiql/vendor/graphiql\.min\.[0-9a-f]{12}\.js", url), url
    compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert compressed.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert f"max-age={10 * ONE_YEAR}" in compressed["Cache-Control"]
    assert "immutable" in compressed["Cache-Control"]
    plain = client.get(url)  # a client that accepts no compression gets the file as it is
    assert "Content-Encoding" not in plain
    compressed_bytes, plain_bytes = body(compressed), body(plain)
    assert gzip.decompress(compressed_bytes) == plain_bytes
    assert len(compressed_bytes) < len(plain_bytes) / 2


def test_before_collectstatic_the_plain_files_are_named_and_served(tmp_path: Path):
    with override_settings(STATIC_ROOT=tmp_path / "not-collected"):
        client = Client()
        url = graphiql_script_url(client)
        assert url == "/static/graphiql/vendor/graphiql.min.js"
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" not in response.get("Cache-Control", "")
