"""Headless Chromium (Debian's package) driven over the DevTools protocol, with `websockets`.

The lightest reliable driver here: no browser download, no driver binary, no extra package. A test
opens pages, types and clicks with real input events, and reads the page with JavaScript.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def from_this_server(server: Any, url: str) -> bool:
    """True for what a page may load when it depends on nothing but `server` (no CDN)."""
    origin = server.url.split("://", 1)[1]
    return url.startswith("data:") or url.split("://", 1)[-1].startswith(origin + "/")


class BrowserError(AssertionError):
    pass


class Page:
    """One tab: navigation, JavaScript, input events, and the URLs it requested."""

    def __init__(self, browser: Chromium, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.requested_urls: list[str] = []
        self.console_errors: list[str] = []
        # What the browser refused under the page's Content-Security-Policy (Log domain).
        self.policy_violations: list[str] = []

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    async def goto(self, url: str, timeout: float = 30) -> None:
        loaded = self.browser.expect_event("Page.loadEventFired", self.session_id)
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        await asyncio.wait_for(loaded, timeout)

    async def reload(self, timeout: float = 30) -> None:
        loaded = self.browser.expect_event("Page.loadEventFired", self.session_id)
        await self.send("Page.reload", {})
        await asyncio.wait_for(loaded, timeout)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15, interval: float = 0.05) -> Any:
        """Poll `expression` until its value is truthy (DOM nodes come back as {}: use `!!`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise BrowserError(f"timed out after {timeout}s waiting for {expression!r}")
            await asyncio.sleep(interval)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " if (!r.width || !r.height) return null;"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    async def type(self, selector: str, text: str) -> None:
        """Focus the field with a click and type `text` as keyboard input.

        A page still laying itself out (a chart drawn, a table filled) can move the field between
        measuring and clicking: the click is made again until the field has the focus."""
        field = f"document.querySelector({json.dumps(selector)})"
        focused = f"!!{field}?.contains(document.activeElement)"  # or an editor's inner textarea
        for _ in range(20):
            await self.click(selector)
            if await self.evaluate(focused):
                break
            await asyncio.sleep(0.1)
        else:
            raise BrowserError(f"{selector} never took the focus")
        await self.send("Input.insertText", {"text": text})

    async def screenshot(self, path: Path) -> None:
        result = await self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(result["data"]))


class Chromium:
    def __init__(
        self, process: subprocess.Popen[bytes], connection: ClientConnection, profile: str
    ) -> None:
        self.process = process
        self.connection = connection
        self.profile = profile
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._pages: dict[str, Page] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls) -> AsyncIterator[Chromium]:
        executable = chromium_path()
        if executable is None:
            raise BrowserError("chromium is not installed (tests/e2e/install_browser.sh)")
        profile = tempfile.mkdtemp(prefix="majestic-chromium-")  # a fresh --user-data-dir
        process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        browser = None
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(300):
                if port_file.exists() and len(port_file.read_text().splitlines()) >= 2:
                    break
                if process.poll() is not None:
                    raise BrowserError(f"chromium exited with {process.returncode}")
                await asyncio.sleep(0.1)
            else:
                raise BrowserError("chromium did not open its DevTools port")
            port, path = port_file.read_text().splitlines()[:2]
            connection = await connect(
                f"ws://127.0.0.1:{port}{path}", max_size=None, ping_interval=None
            )
            browser = cls(process, connection, profile)
            yield browser
        finally:
            if browser is not None:
                await browser.close()
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            shutil.rmtree(profile, ignore_errors=True)

    async def new_page(self) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        self._pages[page.session_id] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            await page.send(f"{domain}.enable")
        return page

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        await self.connection.send(json.dumps(message))
        return await asyncio.wait_for(future, 30)

    def expect_event(self, method: str, session_id: str | None) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, session_id, future))
        return future

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(BrowserError(f"CDP error: {message['error']}"))
                    else:
                        future.set_result(message.get("result", {}))
                continue
            method, session = message.get("method"), message.get("sessionId")
            page = self._pages.get(session or "")
            if page is not None and method == "Network.requestWillBeSent":
                page.requested_urls.append(message["params"]["request"]["url"])
            if page is not None and method == "Log.entryAdded":
                text = message["params"]["entry"].get("text", "")
                if "Content Security Policy" in text:
                    page.policy_violations.append(text[:500])
            if page is not None and method == "Runtime.exceptionThrown":
                page.console_errors.append(json.dumps(message["params"]["exceptionDetails"])[:500])
            for waiter in list(self._waiters):
                if waiter[0] == method and waiter[1] in (None, session) and not waiter[2].done():
                    waiter[2].set_result(message.get("params", {}))
                    self._waiters.remove(waiter)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.send("Browser.close"), 5)
        with contextlib.suppress(Exception):
            await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
