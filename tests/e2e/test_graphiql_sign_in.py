"""GraphiQL's sign-in panel in a real browser: a session that holds across reloads and the access
token's expiry (a 4-second lifetime here), with the schema loaded all along, and a sign-out that
ends the session on the server too."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import httpx
import pytest

from tests.e2e.test_graphiql import RESULT, run

pytestmark = [pytest.mark.live, pytest.mark.browser]

EDITOR_READY = "!!document.querySelector('.graphiql-query-editor .CodeMirror')"
SIGN_IN_PANEL = '.graphiql-sidebar button[aria-label="Show Sign in"]'
DOCS = '.graphiql-sidebar button[aria-label="Show Documentation Explorer"]'
WHO = "document.getElementById('majestic-who').textContent"
TOKEN = "localStorage.getItem('majestic.accessToken')"
REFRESH = "localStorage.getItem('majestic.refreshToken')"
RESULT_EDITOR = "document.querySelector('.result-window .CodeMirror').CodeMirror"
STAFF_ONLY = "{ systemStatus { pendingEvents } }"


async def open_page(server, browser):
    page = await browser.new_page()
    await page.goto(f"{server.url}/graphql/")
    await page.wait_for(EDITOR_READY)
    return page


async def sign_in(page, username: str, password: str) -> None:
    await page.click(SIGN_IN_PANEL)
    await page.type("#majestic-password-sign-in input[name=username]", username)
    await page.type("#majestic-password-sign-in input[name=password]", password)
    await page.click("#majestic-password-sign-in button[type=submit]")
    await page.wait_for(f"{WHO} === {json.dumps(username)}")


async def staff_query_answers(page) -> None:
    await page.evaluate(f"{RESULT_EDITOR}.setValue('')")  # no earlier answer to mistake for it
    await run(page, STAFF_ONLY)
    shown = await page.wait_for(f"{RESULT}.includes('pendingEvents') && {RESULT}")
    assert "errors" not in json.loads(shown), shown


async def docs_show_the_schema(page) -> None:
    if not await page.evaluate("!!document.querySelector('.graphiql-doc-explorer')"):
        await page.click(DOCS)
    text = "document.querySelector('.graphiql-doc-explorer').innerText"
    await page.wait_for(f"{text}.includes('Query')")
    assert "Error fetching schema" not in await page.evaluate(text)


def claims(token: str) -> dict[str, int]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def short_lived(start_server):
    return start_server(ACCESS_TOKEN_LIFETIME_SECONDS="4")


@pytest.fixture
def staff_with_password(short_lived):
    password = f"pw-{uuid.uuid4().hex}"
    return {**short_lived.make_user("staff", password=password), "password": password}


async def test_sign_in_holds_across_reloads_and_expiry_then_signs_out(
    short_lived, browser, staff_with_password
):
    server, user = short_lived, staff_with_password
    page = await open_page(server, browser)
    assert await page.evaluate(WHO) == "signed out"
    await docs_show_the_schema(page)  # anonymous: introspection answers anyone in development

    await sign_in(page, user["username"], user["password"])
    await staff_query_answers(page)

    await page.reload()
    await page.wait_for(EDITOR_READY)
    await page.wait_for(f"{WHO} === {json.dumps(user['username'])}")
    await staff_query_answers(page)

    # Renewed before it expires, with no request needed.
    first = await page.evaluate(TOKEN)
    await page.wait_for(f"{TOKEN} !== {json.dumps(first)}", timeout=10)

    # A page opened with an expired token (a laptop woken after lunch): renewed before use, the
    # schema loads, staff queries answer.
    renewed = await page.evaluate(TOKEN)
    while time.time() <= claims(renewed)["exp"]:
        await asyncio.sleep(0.2)
    await page.evaluate(
        f"(() => {{ localStorage.setItem('majestic.accessToken', {json.dumps(renewed)});"
        " location.reload(); })()"
    )
    await page.wait_for(EDITOR_READY)
    await docs_show_the_schema(page)
    await staff_query_answers(page)
    assert await page.evaluate(TOKEN) != renewed

    # A token the server refuses outright (401): renewed once, the request goes again.
    await page.evaluate("localStorage.setItem('majestic.accessToken', 'not-a-token')")
    await staff_query_answers(page)
    assert await page.evaluate(TOKEN) != "not-a-token"

    refresh_token = await page.evaluate(REFRESH)
    if not await page.evaluate("!!document.getElementById('majestic-sign-out')"):
        await page.click(SIGN_IN_PANEL)
    await page.click("#majestic-sign-out")
    await page.wait_for(f"{WHO} === 'signed out'")
    assert await page.evaluate(TOKEN) is None and await page.evaluate(REFRESH) is None
    await run(page, STAFF_ONLY)
    await page.wait_for(f"{RESULT}.includes('UNAUTHENTICATED')")
    await docs_show_the_schema(page)
    # The session is over on the server too: its refresh token no longer works.
    answer = httpx.post(
        f"{server.url}/graphql/",
        json={
            "query": "mutation($t: String!) { refreshToken(refreshToken: $t) {"
            " accessToken errors { code } } }",
            "variables": {"t": refresh_token},
        },
    ).json()
    assert answer["data"]["refreshToken"]["accessToken"] is None
    assert page.console_errors == []


async def test_a_wrong_password_says_so_and_signs_nobody_in(short_lived, browser):
    page = await open_page(short_lived, browser)
    await page.click(SIGN_IN_PANEL)
    await page.type("#majestic-password-sign-in input[name=username]", "nobody")
    await page.type("#majestic-password-sign-in input[name=password]", "wrong")
    await page.click("#majestic-password-sign-in button[type=submit]")
    await page.wait_for(
        "document.querySelector('#majestic-password-sign-in .majestic-error')"
        ".textContent.length > 0"
    )
    assert await page.evaluate(WHO) == "signed out"
    assert await page.evaluate(TOKEN) is None


async def test_with_introspection_for_staff_signing_in_loads_the_schema(start_server, browser):
    """GRAPHQL_INTROSPECTION=staff (production's default): signed out the docs explorer cannot
    load the schema; signing in loads it without a reload."""
    server = start_server(GRAPHQL_INTROSPECTION="staff")
    password = f"pw-{uuid.uuid4().hex}"
    user = server.make_user("staff", password=password)
    page = await open_page(server, browser)
    await page.click(DOCS)
    text = "document.querySelector('.graphiql-doc-explorer').innerText"
    await page.wait_for(f"{text}.includes('Error fetching schema')")
    await page.click('.graphiql-sidebar button[aria-label="Hide Documentation Explorer"]')
    await sign_in(page, user["username"], password)
    await page.click('.graphiql-sidebar button[aria-label="Hide Sign in"]')
    await docs_show_the_schema(page)
