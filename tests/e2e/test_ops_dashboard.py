"""The ops dashboard in a real browser: sign in, watch events arrive live, stay signed in."""

from __future__ import annotations

import json  # sample
import uuid

import pytest

from tests.e2e.browser import from_this_server  # sample
from tests.live.fixtures import eventually
from tests.live.logistics import create_center, create_loaded_transport, start_transport  # sample

pytestmark = [pytest.mark.live, pytest.mark.browser]

FEED_ITEM = "document.querySelector('#event-feed li[data-detail-type=\"{}\"]')"


async def sign_in(page, server, username: str, password: str) -> None:
    await page.goto(f"{server.url}/ops/")
    await page.wait_for("!document.getElementById('sign-in').hidden")
    await page.type("#username", username)
    await page.type("#password", password)
    await page.click("#sign-in-button")
    await page.wait_for("!document.getElementById('dashboard').hidden")


# sample: begin (the events and the panel of the logistics sample)
async def test_staff_sign_in_and_see_an_event_within_two_seconds(server, browser):
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    before = server.live()["subscriptions"]
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)
    await page.wait_for("document.getElementById('connection').textContent === 'live'")
    # Both subscriptions (events and health) are in place on the server before the mutation.
    await eventually(lambda: server.live()["subscriptions"] >= before + 2)

    code = create_center(server, staff["token"])  # the mutation, through the API

    item = FEED_ITEM.format("DistributionCenterCreated")
    await page.wait_for(f"!!{item}", timeout=2.0)  # the bound: on the page within 2 s
    shown = await page.evaluate(f"{item}.textContent")
    assert "majestic.distribution" in shown
    assert code in await page.evaluate(f"{item}.querySelector('pre').textContent")
    assert await page.evaluate("localStorage.getItem('majestic.accessToken')")
    assert page.console_errors == []
    # Everything the page loaded came from this server: no CDN.
    assert [url for url in page.requested_urls if not from_this_server(server, url)] == []


async def test_a_reload_stays_signed_in_and_shows_transports_and_health(server, browser):
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    driver = server.make_user("driver")
    transport = create_loaded_transport(server, staff["token"], driver["uuid"])
    start_transport(server, staff["token"], transport["uuid"])
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)

    await page.reload()
    await page.wait_for("!document.getElementById('dashboard').hidden")
    assert await page.evaluate("document.getElementById('sign-in').hidden")
    assert staff["username"] in await page.evaluate("document.getElementById('who').textContent")

    row = f"document.querySelector('#transport-rows tr[data-uuid={json.dumps(transport['uuid'])}]')"
    await page.wait_for(f"!!{row}")
    assert transport["source"] in await page.evaluate(f"{row}.textContent")
    # Health comes from the systemStatus subscription.
    await page.wait_for("/^[0-9]+$/.test(document.getElementById('pending-events').textContent)")
    assert await page.evaluate("document.getElementById('failed-events').dataset.state") in (
        "ok",
        "bad",
    )


# sample: end
async def test_filters_keep_other_events_off_the_feed(server, browser):
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    before = server.live()["subscriptions"]
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)
    await page.wait_for("document.getElementById('connection').textContent === 'live'")
    # The page's feeds (events and health) are in place on the server: the protocol has no ack,
    # and an event published before a feed is in place is not the feed's.
    await eventually(lambda: server.live()["subscriptions"] >= before + 2)
    await page.type("#filter-detail-types", "WantedByOps")
    await page.click("#event-filters button[type=submit]")
    # The filtered feed is in place beside the one it replaces, which the page keeps open a while.
    await eventually(lambda: server.live()["subscriptions"] >= before + 3)

    async def round_trip(timeout: float = 15) -> bool:
        """Publish an unwanted event, then a wanted one; was the unwanted one shown?"""
        unwanted, wanted = uuid.uuid4().hex, uuid.uuid4().hex
        server.publish(envelope=_event("NotWanted", unwanted))
        server.publish(envelope=_event("WantedByOps", wanted))
        await page.wait_for(
            f"!!document.querySelector('#event-feed li[data-event-id=\"{wanted}\"]')", timeout
        )
        # Two feeds deliver while one replaces the other: each event shows once.
        shown = await page.evaluate(
            f"document.querySelectorAll('#event-feed li[data-event-id=\"{wanted}\"]').length"
        )
        assert shown == 1
        return await page.evaluate(
            f"!!document.querySelector('#event-feed li[data-event-id=\"{unwanted}\"]')"
        )

    # While the filtered feed replaces the unfiltered one and after: no wanted event is lost
    # and no unwanted one shows.
    for _ in range(3):
        assert not await round_trip()


def _event(detail_type: str, event_id: str) -> dict:
    return {
        "source": "majestic.test",
        "detailType": detail_type,
        "detail": {"eventId": event_id, "occurredAt": "2026-01-01T00:00:00Z", "data": {}},
    }


async def test_wrong_password_shows_an_error_and_stores_nothing(server, browser):
    staff = server.make_user("staff", password="the-right-one-123")
    page = await browser.new_page()
    await page.goto(f"{server.url}/ops/")
    await page.type("#username", staff["username"])
    await page.type("#password", "not-the-password")
    await page.click("#sign-in-button")
    await page.wait_for("document.getElementById('sign-in-error').textContent.length > 0")
    assert await page.evaluate("localStorage.getItem('majestic.accessToken')") is None
    assert await page.evaluate("document.getElementById('dashboard').hidden")
