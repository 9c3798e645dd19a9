"""Logging in to the dashboard in a real browser: a key opens a session, a wrong key is
refused on the login page, and logging out ends it."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.support.browser import logged_in, screenshot
from tests.support.dashboard_fleet import DashboardFleet
from tests.ui.conftest import Watched


def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    found = [c for c in context.cookies() if c["name"] == "asgard_session"]
    return dict(found[0]) if found else None


def test_a_key_typed_on_the_login_page_opens_the_fleet(
    watched: Watched, context: BrowserContext, fleet: DashboardFleet
) -> None:
    page = watched.page
    page.goto("/")
    expect(page).to_have_url(f"{fleet.url}/ui/login?next=/ui/")
    expect(page.get_by_role("heading", name="Log in to Asgard")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("API key").fill(fleet.admin_key)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{fleet.url}/ui/")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Olga Ops")
    cookie = session_cookie(context)
    assert cookie is not None, "a session cookie"
    assert cookie["httpOnly"] is True, "scripts cannot read the session"
    assert cookie["sameSite"] == "Strict", cookie
    assert fleet.admin_key not in str(context.cookies()), "the key itself is not kept"
    assert watched.problems == []


def test_a_wrong_key_is_refused_on_the_login_page(
    page: Page, context: BrowserContext, fleet: DashboardFleet
) -> None:
    page.goto("/ui/login")
    page.get_by_label("API key").fill("asg_wrong_" + "x" * 32)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    assert "/ui/login" in page.url
    screenshot(page, "login-refused")
    assert session_cookie(context) is None, "no session for a wrong key"
    page.goto("/ui/apps")
    expect(page).to_have_url(f"{fleet.url}/ui/login?next=/ui/apps")


def test_after_logging_out_the_pages_ask_for_the_key_again(
    page: Page, context: BrowserContext, fleet: DashboardFleet
) -> None:
    logged_in(page, fleet.admin_key, then="/ui/agents")
    expect(page).to_have_url(f"{fleet.url}/ui/agents")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{fleet.url}/ui/login")
    page.goto("/ui/agents")
    expect(page).to_have_url(f"{fleet.url}/ui/login?next=/ui/agents")
