"""The ops console in a real browser: what a signed-out visitor sees, the charts' live points, the
dead-events table and its redrive, the watching panel, and the catch-up after a lost connection.

Every event here is one the core emits (UserProfileUpdated) or an outbox row the test plants, so
the file holds for projects without the logistics sample too.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.test_ops_dashboard import sign_in
from tests.live.fixtures import eventually
from tests.live.server import LiveServer

pytestmark = [pytest.mark.live, pytest.mark.browser]

UPDATE_PROFILE = """
mutation Rename($name: String!) { updateProfile(input: {fullName: $name}) { errors { code } } }
"""
EVENT_ITEM = "document.querySelector('#event-feed li[data-event-id=\"{}\"]')"
LIVE = "document.getElementById('connection').textContent === 'live'"
RENAMES_SHOWN = (
    "document.querySelectorAll('#event-feed li[data-detail-type=UserProfileUpdated]').length"
)


@pytest.fixture
def troubled(server: LiveServer) -> Iterator[Callable[..., str]]:
    """Plants outbox rows that failed to go out (server.troubled_event); gone after the test, so
    the shared server's backlog and readiness are as the next test expects."""
    planted: list[str] = []

    def plant(state: str, **fields: Any) -> str:
        planted.append(server.troubled_event(state, **fields))
        return planted[-1]

    yield plant
    server.post("/test-only/outbox/forget", {"eventIds": planted})


def rename(server: LiveServer, token: str) -> None:
    """A UserProfileUpdated event, through the API."""
    result = server.graphql(UPDATE_PROFILE, {"name": f"Name {uuid.uuid4().hex[:8]}"}, token=token)
    assert result["data"]["updateProfile"]["errors"] == [], result


def visible(selector: str) -> str:
    return (
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        " return !!e && getComputedStyle(e).display !== 'none'"
        " && e.getClientRects().length > 0; })()"
    )


async def staff_page(server: LiveServer, browser: Any) -> tuple[Any, dict[str, Any]]:
    """A staff user's signed-in ops page, its event and status subscriptions in place."""
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    before = server.live()["subscriptions"]
    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)
    await page.wait_for(LIVE)
    await eventually(lambda: server.live()["subscriptions"] >= before + 2)
    return page, staff


def totals(chart: str) -> str:
    """The chart's sums over its window (its element's data-totals), as a JavaScript expression."""
    return f"JSON.parse(document.getElementById('{chart}').dataset.totals || '{{}}')"


async def pending_drained(server: LiveServer, token: str) -> None:
    """Until the server's relay has sent everything emitted so far."""

    def drained() -> bool:
        status = server.graphql("{ systemStatus { pendingEvents } }", token=token)
        return status["data"]["systemStatus"]["pendingEvents"] == 0

    await eventually(drained)


async def test_a_signed_out_visitor_sees_only_the_sign_in_form_and_signing_out_returns_to_it(
    server, browser
):
    page = await browser.new_page()
    await page.goto(f"{server.url}/ops/")
    await page.wait_for(visible("#sign-in"))
    for part in ("#dashboard", "#health", "#charts", "#deliveries", "#events", "#sign-out"):
        assert not await page.evaluate(visible(part)), f"{part} shows to a signed-out visitor"

    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    await sign_in(page, server, staff["username"], password)
    assert await page.evaluate(visible("#charts")) and not await page.evaluate(visible("#sign-in"))
    await page.click("#sign-out")
    await page.wait_for(visible("#sign-in"))
    assert not await page.evaluate(visible("#dashboard"))
    assert await page.evaluate("localStorage.getItem('majestic.accessToken')") is None
    assert page.console_errors == []


async def test_each_chart_gets_a_live_point(server, browser, troubled):
    page, staff = await staff_page(server, browser)
    for chart in ("chart-events", "chart-outbox", "chart-failures"):
        # Seeded from eventStats: an hour of minutes, drawn.
        await page.wait_for(f"Number(document.getElementById('{chart}').dataset.points) >= 59")
        assert await page.evaluate(f"!!document.querySelector('#{chart} canvas')")
    before = {
        chart: await page.evaluate(totals(chart))
        for chart in ("chart-events", "chart-outbox", "chart-failures")
    }

    rename(server, staff["token"])  # emitted: the events chart's point
    await page.wait_for(
        f"({totals('chart-events')}.UserProfileUpdated || 0)"
        f" > {before['chart-events'].get('UserProfileUpdated', 0)}"
    )
    # A retrying event (pending, with a failed attempt) and a dead one: the outbox and failure
    # charts move when the page next hears of the system's status.
    troubled("retrying")
    troubled("dead")
    rename(server, staff["token"])  # an outbox change: systemStatus is pushed
    await page.wait_for(
        f"{totals('chart-outbox')}.pendingEvents"
        f" > {before['chart-outbox'].get('pendingEvents', 0)}",
        timeout=30,
    )
    await page.wait_for(
        f"{totals('chart-failures')}.deliveriesFailed"
        f" >= {before['chart-failures'].get('deliveriesFailed', 0) + 2}",
        timeout=30,
    )
    assert page.console_errors == []
    assert page.policy_violations == []


async def test_a_dead_event_redriven_from_the_table_is_delivered(server, browser, troubled):
    page, _ = await staff_page(server, browser)
    dead = troubled("dead", detailType="RedriveMe", error="EventBridge said no")
    retrying = troubled("retrying", detailType="StillTrying")
    await page.click("#refresh-deliveries")
    row = f"document.querySelector('#delivery-rows tr[data-event-id=\"{dead}\"]')"
    await page.wait_for(f"!!{row}")
    assert "EventBridge said no" in await page.evaluate(f"{row}.textContent")
    retrying_row = f"document.querySelector('#delivery-rows tr[data-event-id=\"{retrying}\"]')"
    await page.wait_for(f"!!{retrying_row}")
    assert await page.evaluate(f"{retrying_row}.dataset.status") == "PENDING"
    assert not await page.evaluate(f"!!{retrying_row}.querySelector('.redrive-one')")

    # Its attempts, a click away.
    await page.click(f'#delivery-rows tr[data-event-id="{dead}"] button')
    await page.wait_for(
        f"!!{row} && !!{row}.nextElementSibling.querySelector('li[data-outcome=FAILED]')"
    )

    # Cancelling the confirmation changes nothing.
    await page.click(f'#delivery-rows tr[data-event-id="{dead}"] .redrive-one')
    await page.wait_for("document.getElementById('confirm-dialog').open")
    await page.click("#confirm-cancel")
    await page.wait_for("!document.getElementById('confirm-dialog').open")
    assert await page.evaluate(f"{row}.dataset.status") == "DEAD"

    await page.click(f'#delivery-rows tr[data-event-id="{dead}"] .redrive-one')
    await page.wait_for("document.getElementById('confirm-dialog').open")
    await page.click("#confirm-ok")
    await page.wait_for(
        "document.getElementById('redrive-result').textContent === '1 event is pending again.'"
    )
    # The relay sends it: it leaves the table and shows in the live feed, as delivered.
    await page.wait_for(f"!{row}", timeout=30)
    await page.wait_for(f"!!{EVENT_ITEM.format(dead)}", timeout=30)
    assert await page.evaluate(f"!!{retrying_row}"), "the retrying event was not redriven"
    assert page.console_errors == []


async def test_the_watching_panel_counts_this_page_and_names_the_relay(server, browser):
    page, _ = await staff_page(server, browser)
    # This page holds a websocket with two subscriptions (events and status) at least.
    await page.wait_for(
        "Number(document.getElementById('websocket-connections').textContent) >= 1"
        " && Number(document.getElementById('active-subscriptions').textContent) >= 2",
        timeout=30,
    )
    await page.wait_for("document.querySelectorAll('#relay-rows tr').length >= 1", timeout=30)
    assert await page.evaluate("document.getElementById('relays-empty').hidden")


async def test_new_filters_also_clear_the_events_already_shown(server, browser):
    page, _ = await staff_page(server, browser)
    shown = uuid.uuid4().hex
    server.publish(envelope=_event("KeptByFilter", shown))
    server.publish(envelope=_event("DroppedByFilter", uuid.uuid4().hex))
    await page.wait_for("document.querySelectorAll('#event-feed li').length >= 2")
    await page.type("#filter-detail-types", "KeptByFilter")
    await page.click("#event-filters button[type=submit]")
    await page.wait_for(
        "!document.querySelector('#event-feed li[data-detail-type=\"DroppedByFilter\"]')"
    )
    assert await page.evaluate(f"!!{EVENT_ITEM.format(shown)}")


async def test_after_a_lost_connection_the_page_replays_what_it_missed_once_each(
    start_server, browser
):
    """The page's server goes away; events are emitted through another server meanwhile; when the
    first comes back, the page shows each missed event exactly once, then goes on live."""
    watched = start_server()
    other = start_server()
    page, staff = await staff_page(watched, browser)
    rename(watched, staff["token"])  # one event seen: where the catch-up starts
    await page.wait_for("document.querySelectorAll('#event-feed li').length >= 1")

    watched.stop()
    await page.wait_for("document.getElementById('connection').textContent === 'reconnecting'")
    assert await page.evaluate("!document.getElementById('connection-notice').hidden")
    for _ in range(3):
        rename(other, staff["token"])
    await pending_drained(other, staff["token"])  # sent while the page was away
    watched.start()

    await page.wait_for(LIVE, timeout=45)
    await page.wait_for(f"{RENAMES_SHOWN} >= 4", timeout=30)
    rename(watched, staff["token"])  # and live again
    await page.wait_for(f"{RENAMES_SHOWN} >= 5", timeout=30)
    ids = await page.evaluate(
        "Array.from(document.querySelectorAll('#event-feed li')).map(li => li.dataset.eventId)"
    )
    assert len(ids) == len(set(ids)) == 5, ids


def _event(detail_type: str, event_id: str) -> dict[str, Any]:
    return {
        "source": "majestic.test",
        "detailType": detail_type,
        "detail": {"eventId": event_id, "occurredAt": "2026-01-01T00:00:00Z", "data": {}},
    }


async def test_a_throttled_dashboard_says_when_its_figures_resume(start_server, browser):
    # A budget the dashboard's first reads exhaust (the dead events alone cost ~600), restored
    # slowly: each Refresh after them is refused.
    server = start_server(GRAPHQL_COST_BUCKET_SIZE="700", GRAPHQL_COST_RESTORE_RATE="1")
    page, _ = await staff_page(server, browser)
    notice = "document.getElementById('throttle-notice')"
    for _ in range(10):
        if await page.evaluate(f"!{notice}.hidden"):
            break
        await page.click("#refresh-deliveries")
        await asyncio.sleep(0.5)
    await page.wait_for(f"!{notice}.hidden", timeout=20)
    text = await page.evaluate(f"{notice}.textContent")
    assert "Rate limited" in text and re.search(r"resume in \d+ s", text), text
