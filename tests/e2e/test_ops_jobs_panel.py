"""The jobs module's panel on the ops page: a finished import with its progress and failed rows,
and the row errors a click away."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_ops_dashboard import sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

IMPORT = """
mutation Import($items: [CreateShippingItemInput!]!) {
  importShippingItems(input: {items: $items}) { bulkJob { id } errors { code } }
}
"""


async def test_staff_see_a_job_with_its_progress_and_row_errors(server, browser):
    password = f"pw-{uuid.uuid4().hex}"
    staff = server.make_user("staff", password=password)
    items = [{"sku": f"PANEL-{n}"} for n in range(3)] + [{"sku": ""}]
    started = server.graphql(IMPORT, {"items": items}, token=staff["token"])
    job_id = started["data"]["importShippingItems"]["bulkJob"]["id"]

    page = await browser.new_page()
    await sign_in(page, server, staff["username"], password)
    row = f"document.querySelector('#job-rows tr[data-job-id=\"{job_id}\"]')"
    await page.wait_for(f"{row} && {row}.dataset.status === 'PARTIALLY_FAILED'", timeout=30)
    assert await page.evaluate(f"{row}.querySelector('progress').value") == 1
    assert "4 / 4" in await page.evaluate(f"{row}.textContent")

    await page.evaluate(f"{row}.querySelector('button.link').click()")
    await page.wait_for("!document.getElementById('job-errors').hidden")
    errors = await page.evaluate("document.getElementById('job-error-rows').textContent")
    assert "4" in errors and "INVALID_SKU" in errors
    assert page.console_errors == []
