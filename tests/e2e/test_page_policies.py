"""GraphiQL and /ops/ under their Content-Security-Policy, in a real browser: everything they need
still works (assets, queries, the websocket), and what is not theirs is refused."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.e2e.test_graphiql import RESULT, open_graphiql, run
from tests.e2e.test_ops_dashboard import sign_in
from tests.live.fixtures import eventually

pytestmark = [pytest.mark.live, pytest.mark.browser]

INLINE_SCRIPT_RUNS = """(() => {
  const script = document.createElement('script');
  script.textContent = 'window.inlineScriptRan = true';
  document.head.appendChild(script);
  return window.inlineScriptRan === true;
})()"""
# A server that is not this one (nothing listens there; the policy refuses before connecting).
FOREIGN_FETCH = "fetch('http://127.0.0.2:9/steal').then(() => 'sent', () => 'refused')"


def policy_of(server, path: str) -> str:
    response = httpx.get(f"{server.url}{path}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/graphql/", "/ops/"])
def test_the_page_names_only_its_own_origin(server, path):
    host = server.url.split("://", 1)[1]
    directives = dict(
        part.strip().split(" ", 1) for part in policy_of(server, path).split(";") if part.strip()
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert directives["frame-ancestors"] == "'none'"


async def assert_foreign_code_and_hosts_refused(page) -> None:
    assert page.policy_violations == [], page.policy_violations
    assert await page.evaluate(INLINE_SCRIPT_RUNS) is False
    assert await page.evaluate(FOREIGN_FETCH) == "refused"
    await eventually(lambda: len(page.policy_violations) >= 2)


async def test_graphiql_works_under_its_policy_and_refuses_foreign_code(server, browser, staff):
    page = await open_graphiql(server, browser, token=staff["token"])
    await run(page, "{ __typename }")
    result = json.loads(await page.wait_for(f"{RESULT}.includes('__typename') && {RESULT}"))
    assert result["data"] == {"__typename": "Query"}
    before = server.live()["subscriptions"]
    await run(page, 'subscription { domainEvents(detailTypes: ["UnderPolicy"]) { detailType } }')
    await eventually(lambda: server.live()["subscriptions"] > before)  # the websocket is allowed
    server.publish(detailType="UnderPolicy")
    await page.wait_for(f"{RESULT}.includes('UnderPolicy')")
    assert page.console_errors == []
    await assert_foreign_code_and_hosts_refused(page)


async def test_the_ops_dashboard_works_under_its_policy_and_refuses_foreign_code(server, browser):
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)
    await page.wait_for("document.getElementById('connection').textContent === 'live'")
    assert page.console_errors == []
    await assert_foreign_code_and_hosts_refused(page)
