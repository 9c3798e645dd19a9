"""Debian's Chromium driven by Playwright, as the dashboard's browser tests use it.

Chromium is the ``chromium`` package's (``scripts/system-deps.sh`` installs it):
``playwright install`` downloads its own build, which cannot happen here. It starts once
per test session (``started_chromium``), with the switches Playwright's own launch
gives it, and each module connects to it over the DevTools protocol (``connect``): a
module's Playwright must stop when the module ends, because while its sync API is
started its loop counts as running in the thread and the asyncio tests of the next
module could not run their own. Each test gets a fresh browser context (its own
cookies), logs in through the login page as a person would, and can save what it saw as
the docs' screenshot of that page.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from tests.support.resources import refuse_if_servers_off

CHROMIUM: Final = "/usr/bin/chromium"
ROOT: Final = Path(__file__).resolve().parents[2]
SCREENSHOTS: Final = ROOT / "docs" / "_static" / "dashboard"
VENDOR: Final = ROOT / "tests" / "ui" / "vendor"
"""What only the tests load into a page (axe-core): kept with them, not in the package."""
VIEWPORT: Final = {"width": 1760, "height": 900}
SERIOUS: Final = ("serious", "critical")

SWITCHES: Final = (
    "--headless",
    "--no-sandbox",
    "--hide-scrollbars",
    "--mute-audio",
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,"
    "availablePointerTypes=4",
    "--disable-field-trial-config",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-back-forward-cache",
    "--disable-breakpad",
    "--disable-component-extensions-with-background-pages",
    "--disable-component-update",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,"
    "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,"
    "ThirdPartyStoragePartitioning,AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints,"
    "NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch",
    "--enable-features=CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies",
    "--allow-pre-commit-input",
    "--disable-hang-monitor",
    "--disable-ipc-flooding-protection",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-renderer-backgrounding",
    "--force-color-profile=srgb",
    "--metrics-recording-only",
    "--no-first-run",
    "--password-store=basic",
    "--use-mock-keychain",
    "--no-service-autorun",
    "--disable-search-engine-choice-screen",
    "--enable-unsafe-swiftshader",
    "--disable-sync",
)
"""What Playwright's ``chromium.launch(headless=True)`` passes (playwright 1.65's
``chromiumSwitches``), so that a browser started here behaves as one it launches."""
START_TIMEOUT_S: Final = 30.0

__all__ = [
    "axe_violations",
    "connect",
    "focus_by_tab",
    "logged_in",
    "new_context",
    "open_live",
    "screenshot",
    "settles",
    "started_chromium",
]


@contextlib.contextmanager
def started_chromium(profile: Path) -> Iterator[str]:
    """Chromium, headless, its DevTools on a free loopback port (the profile folder says
    which, in ``DevToolsActivePort``); its address, for ``connect``. Stopped after."""
    refuse_if_servers_off("Chromium")
    if not Path(CHROMIUM).exists():
        raise RuntimeError("no /usr/bin/chromium: run scripts/system-deps.sh (make test does)")
    port_file = profile / "DevToolsActivePort"
    log_file = profile.parent / f"{profile.name}.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                CHROMIUM,
                *SWITCHES,
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start ({process.poll()}): {log_file}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def connect(playwright: Playwright, endpoint: str) -> Browser:
    """The session's Chromium (``started_chromium``), for this Playwright."""
    return playwright.chromium.connect_over_cdp(endpoint)


@contextlib.contextmanager
def new_context(browser: Browser, base_url: str, **options: Any) -> Iterator[BrowserContext]:
    """A context of its own (no cookies from another test), closed after."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


def logged_in(page: Page, key: str, then: str = "/ui/") -> Page:
    """Log in through the login page with ``key``, as a person types it; on ``then`` after."""
    page.goto(f"/ui/login?next={then}")
    page.fill("input[name=key]", key)
    page.click("form[action='/ui/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/ui/login" not in url)
    return page


def open_live(page: Page, path: str) -> Page:
    """Open a page and wait until its script listens on ``/events``: a change made before
    that would reach it only with the next one."""
    with page.expect_response(lambda response: "/events?" in response.url):
        page.goto(path)
    return page


def screenshot(page: Page, name: str) -> Path:
    """The docs' picture of a page (``docs/_static/dashboard/<name>.png``), overwritten."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    return path


@functools.cache
def axe_source() -> str:
    return axe_path().read_text()


def axe_path() -> Path:
    """The pinned axe-core the tests vendor (``tests/ui/vendor``; never served)."""
    found = sorted(VENDOR.glob("axe-core-*/axe.min.js"))
    if not found:
        raise RuntimeError(f"no vendored axe-core under {VENDOR}")
    return found[-1]


def axe_violations(page: Page, impacts: tuple[str, ...] = SERIOUS) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is, of the given impacts.

    axe is evaluated in the page the way Playwright evaluates anything, from the tests'
    own copy: not a script of the page, so the page's Content-Security-Policy (scripts
    from 'self' only, no inline script) stays as it is served, with nothing bypassed, and
    a violation by the dashboard's own files would still show. (``add_script_tag`` would
    add an inline script, which that policy rightly refuses.)"""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'wcag22aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def focus_by_tab(page: Page, matches: str, limit: int = 40) -> None:
    """Press Tab until the focused element satisfies the JS predicate ``matches`` (given
    ``el``), as a keyboard user moves through a page; fail after ``limit`` presses."""
    for _ in range(limit):
        if page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!({matches}); }})()"
        ):
            return
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{limit} Tabs never reached {matches}; focus on {focused}")


def settles(check: Callable[[], object], what: str, limit_s: float) -> Any:
    """Poll ``check`` until it answers something true; fail saying what never happened."""
    deadline = time.monotonic() + limit_s
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"within {limit_s:g} s, never: {what} (last seen: {last!r})")
