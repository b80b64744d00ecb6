import os

import pytest

from tests.e2e.browser import Chromium, chromium_path
from tests.live.fixtures import (  # noqa: F401 - fixtures
    live_channel_prefix,
    live_database_url,
    server,
    server_settles,
    staff,
    start_server,
)


@pytest.fixture
async def browser():
    if chromium_path() is None:
        message = "chromium is missing: run tests/e2e/install_browser.sh"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; its absence there is a broken set-up
        pytest.skip(message)
    async with Chromium.launch() as chromium:
        yield chromium
