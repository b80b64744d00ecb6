"""GraphiQL in a real browser, with nothing loaded from outside the server."""

from __future__ import annotations

import json

import pytest

from tests.e2e.browser import from_this_server
from tests.live.fixtures import eventually

pytestmark = [pytest.mark.live, pytest.mark.browser]

EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


async def open_graphiql(server, browser, token: str | None = None):
    page = await browser.new_page()
    await page.goto(f"{server.url}/graphql/")
    if token:  # as if signed in on /ops/: GraphiQL uses the same stored token
        await page.evaluate(f"localStorage.setItem('majestic.accessToken', {json.dumps(token)})")
        await page.reload()
    await page.wait_for("!!document.querySelector('.graphiql-query-editor .CodeMirror')")
    return page


async def run(page, query: str) -> None:
    await page.evaluate(f"{EDITOR}.setValue({json.dumps(query)})")
    await page.click(".graphiql-execute-button")


async def test_graphiql_loads_from_the_server_and_runs_a_query(server, browser):
    page = await open_graphiql(server, browser)
    await run(page, "{ __typename }")
    result = json.loads(await page.wait_for(f"{RESULT}.includes('__typename') && {RESULT}"))
    assert result == {"data": {"__typename": "Query"}}
    assert page.console_errors == []
    assert [url for url in page.requested_urls if not from_this_server(server, url)] == []


async def test_graphiql_runs_subscriptions_over_the_websocket(server, browser, staff):
    page = await open_graphiql(server, browser, token=staff["token"])
    before = server.live()["subscriptions"]
    await run(page, 'subscription { domainEvents(detailTypes: ["FromGraphiQL"]) { detailType } }')
    await eventually(lambda: server.live()["subscriptions"] > before)
    server.publish(detailType="FromGraphiQL")
    shown = await page.wait_for(f"{RESULT}.includes('FromGraphiQL') && {RESULT}")
    assert json.loads(shown) == {"data": {"domainEvents": {"detailType": "FromGraphiQL"}}}
