"""`python -m tests.e2e.screenshots`: refreshes the screenshots in docs/screenshots/ (headless
Chromium, tests/e2e/install_browser.sh) from a server of its own on a fresh database with the demo
data (`seed_demo`).

- graphiql-sign-in.png: GraphiQL's sign-in panel, signed out;
- graphiql.png: signed in as the demo staff account, a query answered, the docs explorer open;
- ops.png: the ops console signed in as the demo staff, after a few live events, a dead event
  and a retrying one (planted as the relay would leave them).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tests.e2e.browser import Chromium
from tests.e2e.test_graphiql import EDITOR, RESULT
from tests.e2e.test_graphiql_sign_in import DOCS, EDITOR_READY, SIGN_IN_PANEL, sign_in
from tests.live.server import ROOT, LiveServer, base_environment, live_database

OUT = ROOT / "docs" / "screenshots"
QUERY = """{
  transports(first: 3) {
    edges { node { status sourceCenter { name } destinationCenter { name } } }
  }
}
"""


async def graphiql(server: LiveServer, browser: Chromium) -> list[Path]:
    from modules.shipping.management.commands.seed_demo import (
        DEMO_STAFF_PASSWORD,
        DEMO_STAFF_USERNAME,
    )

    page = await browser.new_page()
    await page.goto(f"{server.url}/graphql/")
    await page.wait_for(EDITOR_READY)
    await page.click(SIGN_IN_PANEL)
    await page.wait_for("!!document.getElementById('majestic-password-sign-in')")
    panel = OUT / "graphiql-sign-in.png"
    await page.screenshot(panel)
    await page.click('.graphiql-sidebar button[aria-label="Hide Sign in"]')  # sign_in opens it
    await sign_in(page, DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD)
    await page.evaluate(f"{EDITOR}.setValue({json.dumps(QUERY)})")
    await page.click(".graphiql-execute-button")
    await page.wait_for(f"{RESULT}.includes('transports')")
    await page.click(DOCS)
    await page.wait_for("!!document.querySelector('.graphiql-doc-explorer')")
    path = OUT / "graphiql.png"
    await page.screenshot(path)
    return [panel, path]


async def ops(server: LiveServer, browser: Chromium) -> list[Path]:
    from modules.shipping.management.commands.seed_demo import (
        DEMO_STAFF_PASSWORD,
        DEMO_STAFF_USERNAME,
    )
    from tests.e2e.test_ops_dashboard import sign_in as ops_sign_in

    page = await browser.new_page()
    await page.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": 1500, "deviceScaleFactor": 1, "mobile": False},
    )
    await page.goto(f"{server.url}/ops/")
    signed_out = "!document.getElementById('sign-in').hidden"
    await page.wait_for(f"{signed_out} || !document.getElementById('dashboard').hidden")
    if await page.evaluate(signed_out):  # GraphiQL's sign-in holds for the ops page too
        await ops_sign_in(page, server, DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD)
    await page.wait_for("document.getElementById('connection').textContent === 'live'")
    server.troubled_event("dead", detailType="TransportCompleted", error="AccessDeniedException")
    server.troubled_event("retrying", detailType="ArrivalRecorded", error="timed out after 10 s")
    for detail_type in ("TransportStarted", "DepartureRecorded", "ArrivalRecorded"):
        occurred_at = datetime.datetime.now(datetime.UTC).isoformat()
        detail = {"eventId": str(uuid.uuid4()), "occurredAt": occurred_at, "data": {}}
        envelope = {"source": "majestic.shipping", "detailType": detail_type, "detail": detail}
        server.publish(envelope=envelope)
    await page.click("#refresh-deliveries")
    await page.wait_for("document.querySelectorAll('#delivery-rows tr').length >= 2")
    await page.wait_for("document.querySelectorAll('#event-feed li').length >= 3")
    # The failed attempts reach the chart with the next systemStatus push (the server looks
    # every LIVE_STATUS_POLL_SECONDS).
    failures = "JSON.parse(document.getElementById('chart-failures').dataset.totals || '{}')"
    await page.wait_for(f"{failures}.deliveriesFailed >= 2", timeout=30)
    await page.evaluate("window.scrollTo(0, 0)")
    await asyncio.sleep(1)  # the fresh-event highlight fades
    path = OUT / "ops.png"
    await page.screenshot(path)
    return [path]


async def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()  # for the demo account's name and password, read from seed_demo
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, live_database(Path(work)) as database_url:
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--seed", "1", "--verbosity", "0"],
            cwd=ROOT,
            env={**base_environment(), "DATABASE_URL": database_url},
            check=True,
            capture_output=True,
        )
        server = LiveServer(database_url, Path(work) / "server.log").start()
        try:
            async with Chromium.launch() as browser:
                for path in [*await graphiql(server, browser), *await ops(server, browser)]:
                    print(path)
        finally:
            server.close()


if __name__ == "__main__":
    asyncio.run(main())
