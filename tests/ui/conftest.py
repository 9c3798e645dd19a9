"""The dashboard's browser tests: one real ``asgard serve`` over a cluster of each kind for
the whole package (starting it all takes about 20 s), one Chromium per module, and a fresh
browser context for every test so that no cookie or open page leaks from one test to the
next.

The fixtures are synchronous: Playwright's sync API drives the browser from the test's
thread while the emulated clusters turn on a loop of their own (``LoopThread``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from asgard.http.sessions import COOKIE
from tests.support.browser import connect, new_context, started_chromium
from tests.support.dashboard_fleet import DashboardFleet, dashboard_fleet
from tests.support.resources import needs, shared

# What a page should show within: 5 s by default, short on a loaded machine (these tests
# share two cores with the clusters, Asgard and Chromium).
expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
@needs("docker")
@shared("package")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardFleet]:
    with dashboard_fleet(tmp_path_factory.mktemp("dashboard")) as started:
        yield started


@pytest.fixture(scope="session")
@needs("browser")
def chromium_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Chromium for the session (each worker's, under pytest-xdist)."""
    with started_chromium(tmp_path_factory.mktemp("chromium") / "profile") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def chromium(chromium_endpoint: str) -> Iterator[Browser]:
    """Playwright per module, connected to the session's Chromium: while Playwright's sync
    API is started, its loop counts as running in this thread, and the asyncio tests of
    the next module could not run their own."""
    with sync_playwright() as playwright:
        browser = connect(playwright, chromium_endpoint)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser, fleet: DashboardFleet) -> Iterator[BrowserContext]:
    with new_context(chromium, fleet.url) as fresh:
        yield fresh


ABANDONED = frozenset({"htmx:sendAbort", "htmx:afterRequest"})


@dataclass
class Watched:
    """A page, and what went wrong in it that a person would not see: script errors,
    and console errors (a Content-Security-Policy refusal is one)."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # a failed load is told with its address by on_response
        if message.type != "error" or message.text.startswith("Failed to load resource"):
            return
        # htmx logs each request it abandons, twice: the fleet filters replace the request
        # out when a person types on (hx-sync), and leaving a page cuts a live refresh.
        # A request that failed is htmx:sendError, htmx:timeout or htmx:responseError.
        if message.text in ABANDONED:
            return
        self.problems.append(f"console: {message.text}")

    def on_response(self, response: Response) -> None:
        # the browser asks for /favicon.ico by itself; no page names it
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")


@pytest.fixture
def watched(context: BrowserContext) -> Watched:
    page = context.new_page()
    seen = Watched(page)
    page.on("console", seen.on_console)
    page.on("response", seen.on_response)
    page.on("pageerror", lambda error: seen.problems.append(f"script: {error}"))
    return seen


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


@pytest.fixture(scope="package")
def sessions(fleet: DashboardFleet) -> dict[str, list[Any]]:
    """One login per user for the package, posted to the login page as its form does:
    each test's fresh context gets that session's cookie instead of typing the key again
    (the login tests type it)."""
    cookies: dict[str, list[Any]] = {}
    for who, key in (("admin", fleet.admin_key), ("viewer", fleet.viewer_key)):
        token = fleet.loop.run(log_in(fleet, key))
        cookie = {"name": COOKIE, "value": token, "url": fleet.url, "httpOnly": True}
        cookies[who] = [{**cookie, "sameSite": "Strict"}]
    return cookies


async def log_in(fleet: DashboardFleet, key: str) -> str:
    async with fleet.session.post(
        f"{fleet.url}/ui/login", data={"key": key, "next": "/ui/"}, allow_redirects=False
    ) as response:
        found = response.cookies.get(COOKIE)
        assert response.status == 303, await response.text()
        assert found is not None, "the login answer sets the session cookie"
        return found.value


def as_user(page: Page, cookies: list[Any], path: str = "/ui/") -> Page:
    page.context.add_cookies(cookies)
    page.goto(path)
    return page


@pytest.fixture
def admin(page: Page, sessions: dict[str, list[Any]]) -> Page:
    """The page, logged in as the account's admin, on the fleet page."""
    return as_user(page, sessions["admin"])


@pytest.fixture
def viewer(page: Page, sessions: dict[str, list[Any]]) -> Page:
    """The page, logged in as a viewer of the account, on the fleet page."""
    return as_user(page, sessions["viewer"])
