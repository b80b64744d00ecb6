"""GraphiQL in a real browser, with nothing loaded from outside the server."""

from __future__ import annotations

import asyncio
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
    assert result["data"] == {"__typename": "Query"}
    assert result["extensions"]["cost"]["requestedQueryCost"] == 0  # the guard's report
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


HEADERS_TAB = '.graphiql-editor-tools button[data-name="headers"]'
HEADER_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
STORED = "JSON.stringify(Object.fromEntries(Object.entries(localStorage)))"


async def stored(page) -> dict[str, str]:
    return json.loads(await page.evaluate(STORED))


async def test_a_typed_api_key_header_never_reaches_local_storage(server, browser):
    """Attack: whoever reads this origin's localStorage later (an injected script, the next user
    of the browser) would find the key. It is used for the request and kept nowhere."""
    key = server.make_api_key("HEARTBEAT")
    page = await open_graphiql(server, browser)
    await page.click(HEADERS_TAB)
    await page.type(HEADER_EDITOR, json.dumps({"Authorization": f"Api-Key {key}"}))
    await run(page, "{ systemStatus { pendingEvents } }")
    # The key went with the request: an API key without staff powers is refused as such, where an
    # anonymous caller would be told to sign in.
    shown = await page.wait_for(f"{RESULT}.includes('errors') && {RESULT}")
    assert "Only staff" in shown, shown
    await asyncio.sleep(1.5)  # GraphiQL writes its storage after a short debounce
    everything = await stored(page)
    assert "graphiql:query" in everything  # the page still remembers the query itself
    prefix = key.split(".")[0]
    for name, value in everything.items():
        assert key not in value and prefix not in value and "Api-Key" not in value, name
    await page.reload()
    await page.wait_for("!!document.querySelector('.graphiql-query-editor .CodeMirror')")
    await page.click(HEADERS_TAB)
    typed = await page.evaluate(
        f"document.querySelector({json.dumps(HEADER_EDITOR)}).CodeMirror.getValue()"
    )
    assert key not in typed


async def test_headers_an_earlier_page_stored_are_wiped_on_load(server, browser):
    page = await open_graphiql(server, browser)
    secret = "Api-Key stored.earlier-secret"
    tab_state = {
        "tabs": [
            {
                "id": "t1",
                "hash": None,
                "title": "<untitled>",
                "query": "{ __typename }",
                "variables": None,
                "headers": json.dumps({"Authorization": secret}),
                "operationName": None,
                "response": None,
            }
        ],
        "activeTabIndex": 0,
    }
    typed = json.dumps({"Authorization": secret})
    await page.evaluate(
        f"localStorage.setItem('graphiql:headers', {json.dumps(typed)});"
        f"localStorage.setItem('graphiql:tabState', {json.dumps(json.dumps(tab_state))});"
        "localStorage.setItem('graphiql:shouldPersistHeaders', 'true')"
    )
    await page.reload()
    await page.wait_for("!!document.querySelector('.graphiql-query-editor .CodeMirror')")
    everything = await stored(page)
    assert "graphiql:headers" not in everything
    assert everything.get("graphiql:shouldPersistHeaders") in (None, "false")  # GraphiQL's own
    assert all(secret not in value for value in everything.values()), everything
    # The tab state survives, readable by GraphiQL: only the headers in it went.
    tabs = json.loads(everything["graphiql:tabState"])["tabs"]
    assert tabs and all(tab["headers"] is None for tab in tabs)
