"""Trusted documents over HTTP (POST and GET) in the three modes, and the manifest command."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from schema.trusted_documents import selectors
from schema.trusted_documents.models import TrustedDocument
from tests.conftest import bearer
from tests.factories import api_key, make_staff

pytestmark = pytest.mark.django_db

TYPENAME = "query Typename { __typename }"
ME = "query Me { me { username } }"


def hex_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def id_of(text: str) -> str:
    return f"sha256:{hex_of(text)}"


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    selectors.forget_cached_documents()
    cache.clear()  # APQ registrations
    yield
    selectors.forget_cached_documents()


def mode(settings, value: str) -> None:
    settings.GRAPHQL_TRUSTED_DOCUMENTS = value


def register(*bodies: str) -> None:
    manifest = {id_of(body): body for body in bodies}
    call_command("trusted_documents", "import", "-", stdin=io.StringIO(json.dumps(manifest)))


def post(client, payload: dict, authorization: str | None = None, **headers):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.post(
        "/graphql/", json.dumps(payload), content_type="application/json", **extra, **headers
    )


def code_of(response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


# --- off ------------------------------------------------------------------------------------------


def test_off_runs_text_and_refuses_an_id_alone_so_apq_clients_fall_back(client, settings):
    mode(settings, "off")
    register(TYPENAME)
    assert post(client, {"query": TYPENAME}).json()["data"] == {"__typename": "Query"}
    response = post(client, {"documentId": id_of(TYPENAME)})
    assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_NOT_SUPPORTED")
    apq = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hex_of(TYPENAME)}}}
    assert code_of(post(client, apq)) == "PERSISTED_QUERY_NOT_SUPPORTED"


# --- allow ----------------------------------------------------------------------------------------


def test_allow_runs_a_registered_document_by_id_over_post_and_get(client, settings):
    mode(settings, "allow")
    register(TYPENAME)
    by_post = post(client, {"documentId": id_of(TYPENAME), "variables": {}})
    assert (by_post.status_code, by_post.json()["data"]) == (200, {"__typename": "Query"})
    by_get = client.get("/graphql/", {"documentId": id_of(TYPENAME)})
    assert (by_get.status_code, by_get.json()["data"]) == (200, {"__typename": "Query"})


def test_allow_still_runs_free_text(client, settings):
    mode(settings, "allow")
    assert post(client, {"query": "{ __typename }"}).json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_an_unknown_id_is_404_persisted_query_not_found(client, settings, accept):
    mode(settings, "allow")
    response = post(client, {"documentId": id_of("{ nothing }")}, HTTP_ACCEPT=accept)
    assert (response.status_code, code_of(response)) == (404, "PERSISTED_QUERY_NOT_FOUND")
    assert response["Content-Type"].startswith(accept)


@pytest.mark.parametrize(
    "document_id",
    [
        "sha256:" + "a" * 63,  # one digit short
        "sha256:" + "a" * 65,
        "sha256:" + "A" * 64,  # the appendix's hex is lowercase
        "sha256:" + "g" * 64,
        "md5:" + "a" * 32,
        "a" * 64,  # APQ's bare hex belongs in extensions, not documentId
        42,
        "",
    ],
    ids=["short", "long", "uppercase", "not-hex", "other-prefix", "no-prefix", "number", "empty"],
)
def test_a_malformed_id_is_400_with_its_own_code(client, settings, document_id):
    mode(settings, "allow")
    response = post(client, {"documentId": document_id})
    assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_ID_MALFORMED")


def test_a_malformed_apq_extension_is_400(client, settings):
    mode(settings, "allow")
    for persisted in ({"version": 2, "sha256Hash": hex_of(TYPENAME)}, {"version": 1}, "x"):
        response = post(client, {"extensions": {"persistedQuery": persisted}})
        assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_ID_MALFORMED")


def test_text_that_does_not_match_its_id_is_400_hash_mismatch(client, settings):
    mode(settings, "allow")
    register(TYPENAME)
    by_id = post(client, {"documentId": id_of(TYPENAME), "query": ME})
    assert (by_id.status_code, code_of(by_id)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    apq = {"query": ME, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    assert code_of(post(client, apq)) == "PERSISTED_QUERY_HASH_MISMATCH"


def test_allow_follows_apqs_registration_flow(client, settings):
    mode(settings, "allow")
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hex_of(TYPENAME)}}
    first = post(client, {"extensions": extensions})
    assert (first.status_code, code_of(first)) == (404, "PERSISTED_QUERY_NOT_FOUND")
    registered = post(client, {"query": TYPENAME, "extensions": extensions})
    assert registered.json()["data"] == {"__typename": "Query"}
    again = post(client, {"extensions": extensions})  # by hash alone from now on
    assert again.json()["data"] == {"__typename": "Query"}
    by_get = client.get("/graphql/", {"extensions": json.dumps(extensions)})
    assert by_get.json()["data"] == {"__typename": "Query"}


def test_a_registered_mutation_is_refused_over_get(client, settings):
    mode(settings, "allow")
    mutation = 'mutation Out { signOut(refreshToken: "x") { errors { code } } }'
    register(mutation)
    response = client.get("/graphql/", {"documentId": id_of(mutation)})
    assert response.status_code == 405


# --- require --------------------------------------------------------------------------------------


def test_require_refuses_free_text_from_anonymous_callers(client, settings):
    mode(settings, "require")
    response = post(client, {"query": TYPENAME})
    assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_ID_REQUIRED")
    by_get = client.get("/graphql/", {"query": TYPENAME})
    assert code_of(by_get) == "PERSISTED_QUERY_ID_REQUIRED"


def test_require_runs_registered_documents_for_anyone(client, settings):
    mode(settings, "require")
    register(TYPENAME)
    assert post(client, {"documentId": id_of(TYPENAME)}).json()["data"] == {"__typename": "Query"}
    assert client.get("/graphql/", {"documentId": id_of(TYPENAME)}).status_code == 200


def test_require_lets_staff_and_free_text_keys_send_text(client, settings):
    mode(settings, "require")
    staff = make_staff()
    as_staff = post(client, {"query": ME}, bearer(staff))
    assert as_staff.json()["data"] == {"me": {"username": staff.username}}
    as_key = post(client, {"query": TYPENAME}, api_key("FREE_TEXT_OPERATIONS"))
    assert as_key.json()["data"] == {"__typename": "Query"}
    other_key = post(client, {"query": TYPENAME}, api_key("HEARTBEAT"))
    assert code_of(other_key) == "PERSISTED_QUERY_ID_REQUIRED"


def test_require_registers_nothing_by_apq(client, settings):
    mode(settings, "require")
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hex_of(TYPENAME)}}
    anonymous = post(client, {"query": TYPENAME, "extensions": extensions})
    assert code_of(anonymous) == "PERSISTED_QUERY_NOT_FOUND"
    staff = post(client, {"query": TYPENAME, "extensions": extensions}, bearer(make_staff()))
    assert staff.json()["data"] == {"__typename": "Query"}  # runs for staff, registers nothing
    assert code_of(post(client, {"extensions": extensions})) == "PERSISTED_QUERY_NOT_FOUND"


def test_require_serves_apq_hashes_of_registered_documents(client, settings):
    mode(settings, "require")
    register(TYPENAME)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hex_of(TYPENAME)}}
    assert post(client, {"extensions": extensions}).json()["data"] == {"__typename": "Query"}


def test_a_removed_document_is_refused_at_once(client, settings):
    mode(settings, "require")
    register(TYPENAME)
    assert post(client, {"documentId": id_of(TYPENAME)}).status_code == 200  # now cached
    call_command("trusted_documents", "remove", id_of(TYPENAME), stdout=io.StringIO())
    assert code_of(post(client, {"documentId": id_of(TYPENAME)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_neither_text_nor_id_is_still_a_bad_request(client, settings):
    for value in ("off", "allow", "require"):
        mode(settings, value)
        response = post(client, {"variables": {}})
        assert (response.status_code, code_of(response)) == (400, "BAD_REQUEST")


# --- the command ----------------------------------------------------------------------------------


def apollo_manifest(*bodies: str) -> dict:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": hex_of(b), "name": "", "type": "query", "body": b} for b in bodies],
    }


def test_import_reads_apollos_manifest_and_lists_and_removes(tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(apollo_manifest(TYPENAME, ME)))
    out = io.StringIO()
    call_command("trusted_documents", "import", str(manifest), stdout=out)
    assert "Imported 2 document(s); 0 already registered." in out.getvalue()
    call_command("trusted_documents", "import", str(manifest), stdout=out)
    assert "Imported 0 document(s); 2 already registered." in out.getvalue()
    listing = io.StringIO()
    call_command("trusted_documents", "list", stdout=listing)
    assert sorted(listing.getvalue().splitlines()) == sorted(
        [f"{id_of(ME)}\tquery\tMe", f"{id_of(TYPENAME)}\tquery\tTypename"]
    )
    call_command("trusted_documents", "remove", hex_of(ME), stdout=io.StringIO())
    assert list(TrustedDocument.objects.values_list("document_id", flat=True)) == [id_of(TYPENAME)]
    with pytest.raises(CommandError, match="No document is registered"):
        call_command("trusted_documents", "remove", id_of(ME))


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({id_of(TYPENAME): TYPENAME, id_of(TYPENAME)[:-1] + "0": ME}, "does not match"),
        ({id_of(TYPENAME): TYPENAME, "Me": ME}, "is not sha256:"),
        ({id_of("{ oops"): "{ oops"}, "does not parse"),
        ({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}, "version"),
        ({"format": "relay"}, "Unknown manifest format"),
        ([TYPENAME], "JSON object"),
    ],
    ids=["id-of-other-text", "custom-id", "unparsable", "version", "format", "not-an-object"],
)
def test_a_bad_manifest_imports_nothing_and_says_why(manifest, message):
    with pytest.raises(CommandError, match=message):
        call_command("trusted_documents", "import", "-", stdin=io.StringIO(json.dumps(manifest)))
    assert not TrustedDocument.objects.exists()


def test_a_file_that_is_not_json_imports_nothing(tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("trusted_documents", "import", str(broken))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("trusted_documents", "import", str(tmp_path / "missing.json"))


# --- the in-process cache -------------------------------------------------------------------------


def test_a_removal_by_another_process_reaches_this_one_within_the_cache_time(settings, monkeypatch):
    settings.GRAPHQL_TRUSTED_DOCUMENTS_CACHE_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr(selectors, "monotonic", lambda: now[0])
    register(TYPENAME)
    assert selectors.trusted_document_body(id_of(TYPENAME)) == TYPENAME  # cached at 1000
    TrustedDocument.objects.all().delete()  # as `manage.py trusted_documents remove` elsewhere
    now[0] = 1059.9
    assert selectors.trusted_document_body(id_of(TYPENAME)) == TYPENAME
    now[0] = 1060.0
    assert selectors.trusted_document_body(id_of(TYPENAME)) is None


def test_a_document_imported_by_another_process_is_served_at_once():
    assert selectors.trusted_document_body(id_of(ME)) is None  # unknown ids are never cached
    TrustedDocument.objects.create(document_id=id_of(ME), body=ME)
    assert selectors.trusted_document_body(id_of(ME)) == ME


def test_require_runs_text_that_is_exactly_a_registered_document(client, settings):
    mode(settings, "require")
    register(TYPENAME)
    assert post(client, {"query": TYPENAME}).json()["data"] == {"__typename": "Query"}
    changed = post(client, {"query": TYPENAME + " "})  # one character more is another document
    assert code_of(changed) == "PERSISTED_QUERY_ID_REQUIRED"


def test_apq_keeps_text_up_to_its_size_limit_and_runs_longer_text_unkept(client, settings):
    from schema.trusted_documents.apq import MAX_REGISTERED_CHARS

    mode(settings, "allow")
    for size, kept in ((MAX_REGISTERED_CHARS, True), (MAX_REGISTERED_CHARS + 1, False)):
        text = TYPENAME + " " * (size - len(TYPENAME) - 1) + "\n"
        assert len(text) == size
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": hex_of(text)}}
        ran = post(client, {"query": text, "extensions": extensions})
        assert ran.json()["data"] == {"__typename": "Query"}
        by_hash = post(client, {"extensions": extensions})
        assert (by_hash.status_code == 200) is kept
