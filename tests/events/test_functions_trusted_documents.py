"""The functions' gateway client sends each operation's id and text in one request, against a
live gateway in each mode: with their manifest imported it works under `require` with keys that
may send no text; without it, the refusal names the missing document."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from infra.functions.heartbeat import app as heartbeat
from infra.functions.shared import gateway
from schema.trusted_documents import selectors
from schema.trusted_documents.management.commands.trusted_documents import PROJECT_MANIFEST

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch, live_server) -> Iterator[list[dict]]:
    """Every request body the client POSTs to the live gateway, in order."""
    from modules.auth.services import api_key_create

    bodies: list[dict] = []
    over_http = gateway.Gateway._over_http

    def recording(self, url, request_body):
        bodies.append(request_body)
        return over_http(self, url, request_body)

    monkeypatch.setattr(gateway.Gateway, "_over_http", recording)
    monkeypatch.setattr(gateway, "_api_key", None)
    key = api_key_create(name=f"fn-{uuid.uuid4().hex[:8]}", scopes=["HEARTBEAT"]).key
    monkeypatch.setenv("GATEWAY_URL", f"{live_server.url}/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY", key)
    selectors.forget_cached_documents()
    yield bodies
    gateway._api_key = None
    selectors.forget_cached_documents()


def tick() -> dict:
    return heartbeat.handler({"id": f"tick-{uuid.uuid4().hex[:6]}", "detail": {}}, None)


ONE_REQUEST = {
    "documentId": heartbeat.HEARTBEAT.document_id,
    "query": heartbeat.HEARTBEAT.text,
    "variables": {},
}


def test_with_the_manifest_imported_require_mode_runs_the_functions_by_id(settings, sent):
    settings.GRAPHQL_TRUSTED_DOCUMENTS = "require"
    call_command("trusted_documents", "import", str(PROJECT_MANIFEST), stdout=io.StringIO())
    assert tick()["status"] == "ok"
    assert sent == [ONE_REQUEST]


def test_without_the_manifest_require_mode_refuses_the_function_clearly(settings, sent):
    settings.GRAPHQL_TRUSTED_DOCUMENTS = "require"
    with pytest.raises(gateway.GatewayError) as refused:
        tick()
    # The key may not send free text: the unregistered document is refused, by its id.
    assert refused.value.codes == ["PERSISTED_QUERY_NOT_FOUND"]
    assert sent == [ONE_REQUEST]


@pytest.mark.parametrize("mode", ["off", "allow"])
def test_a_gateway_without_the_manifest_runs_the_text_in_the_same_request(settings, sent, mode):
    settings.GRAPHQL_TRUSTED_DOCUMENTS = mode
    assert tick()["status"] == "ok"
    assert sent == [ONE_REQUEST]
