"""The ops dashboard on a server that runs registered documents only: with the project's
manifest imported (as a deployment does), staff still sign in and watch the live feed."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_ops_dashboard import sign_in
from tests.live.server import _run_manage

pytestmark = [pytest.mark.live, pytest.mark.browser]


async def test_staff_use_the_dashboard_where_only_registered_documents_run(start_server, browser):
    server = start_server(GRAPHQL_TRUSTED_DOCUMENTS="require")
    _run_manage(server.env, "trusted_documents", "import", "trusted-documents.json")
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)  # an anonymous, registered mutation
    await page.wait_for("document.getElementById('connection').textContent === 'live'")
    assert page.console_errors == []
    anonymous_text = server.graphql("{ __typename }")
    assert anonymous_text["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_ID_REQUIRED"
