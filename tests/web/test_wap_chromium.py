"""The approval flow in a real browser: Debian's headless chromium opens the signed link an
SMS carries, logs in on the HTML page, presses Approve and shows the result.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (NUL-
separated JSON on file descriptors 3 and 4), so no driver library or websocket client is
needed. The browser runs in a thread; the pages are served by the reactor meanwhile.
Skipped when /usr/bin/chromium is absent.
"""
from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select as sql_select
from twisted.internet import threads

from erpcore.db import session_scope
from erpcore.orders import Order
from gateway.web.wap.links import approval_link
from tests.web.conftest import SECRET
from tests.web.world import PASSWORDS

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe")
WAIT = 30.0  # seconds any one browser step may take before the test fails

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed")


class BrowserError(AssertionError):
    """The browser did not do what the step asked in time."""


class Chromium:
    """One headless chromium with one tab, driven over the DevTools pipe (blocking)."""

    def __init__(self, profile: str):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        args = " ".join(shlex.quote(a) for a in (CHROMIUM, *FLAGS, f"--user-data-dir={profile}"))
        self._process = subprocess.Popen(
            ["/bin/bash", "-c", f"exec {args} 3<&{to_browser_r} 4>&{from_browser_w}"],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer, self._events, self._next_id = b"", [], 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def _read(self) -> dict:
        deadline = time.monotonic() + WAIT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise BrowserError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _loaded(self) -> None:
        """Wait for the tab's next load event (after a navigation or a form post)."""
        while True:
            while self._events:
                if self._events.pop(0).get("method") == "Page.loadEventFired":
                    return
            self._events.append(self._read())

    def open(self, url: str) -> str:
        self._events.clear()
        self.call("Page.navigate", session=True, url=url)
        self._loaded()
        return self.text()

    def act(self, script: str) -> str:
        """Run a script that submits a form; the text of the page that follows."""
        self._events.clear()
        self.evaluate(script)
        self._loaded()
        return self.text()

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except BrowserError:
            pass
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def fill(**fields) -> str:
    """A script that types into the inputs with these ids."""
    return "".join(f"document.getElementById({json.dumps(k)}).value = {json.dumps(v)};"
                   for k, v in fields.items())


def approve_flow(link: str, profile: str) -> dict[str, str]:
    """The pages a manager sees: the link, the login, the document, the decision."""
    browser = Chromium(profile)
    try:
        pages = {"link": browser.open(link)}
        pages["doc"] = browser.act(fill(ent="DEMO", user="smith", pw=PASSWORDS["smith"])
                                   + "document.querySelector('input[type=submit]').click();")
        pages["decided"] = browser.act(
            fill(comment="fine by me")
            + "document.querySelector('input[name=decision][value=Approve]').click();")
        pages["url"] = browser.evaluate("location.pathname")
        return pages
    finally:
        browser.close()


@pytest_twisted.ensureDeferred
async def test_chromium_opens_the_sms_link_logs_in_and_approves(server, world, sessionmaker):
    base, _pages, clock = server
    number = world.numbers[1]
    link = approval_link(world.demo, number, secret=SECRET, base_url=base, now=clock())
    with tempfile.TemporaryDirectory(prefix="merp-chromium-") as profile:
        pages = await threads.deferToThread(approve_flow, link, str(Path(profile)))
    assert "Log in" in pages["link"] and f"Order {number}" not in pages["link"]
    assert f"Order {number}" in pages["doc"] and "Waiting for your decision." in pages["doc"]
    assert "Approved." in pages["decided"] and "fine by me" in pages["decided"]
    assert pages["url"].startswith(f"/wap/doc/{number}")
    with session_scope(sessionmaker) as session:
        state = session.scalar(sql_select(Order.state).where(
            Order.enterprise_id == world.demo, Order.number == number))
    assert state == "approved"
