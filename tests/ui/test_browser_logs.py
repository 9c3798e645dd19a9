"""The log viewer in a real browser: it tails an app's logs, follows them as the app
writes, pauses while the reader has scrolled up (holding and counting the new lines), and
resumes with everything it held, at the bottom again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.dashboard_fleet import DashboardFleet
from tests.support.dockerd import TEST_IMAGE
from tests.ui.conftest import Watched

TALKER = "talker"
TALK = "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"
"""Five numbered lines a second, for as long as it runs."""


@pytest.fixture
def talker(fleet: DashboardFleet) -> Iterator[str]:
    spec = {"cluster": "docker", "id": TALKER, "image": TEST_IMAGE, "args": ["sh", "-c", TALK]}
    fleet.ok("POST", "/apps", 201, json=spec)
    try:
        yield f"/ui/clusters/docker/apps/{TALKER}"
    finally:
        fleet.ok("DELETE", f"/clusters/docker/apps/{TALKER}", 204)


def last_number(log: Locator) -> int:
    numbers = re.findall(r"line (\d+)", log.text_content() or "")
    return int(numbers[-1]) if numbers else 0


def test_follow_pauses_while_the_reader_scrolls_up_and_resumes_at_the_bottom(
    admin: Page, watched: Watched, talker: str
) -> None:
    admin.goto(talker)
    log = admin.locator("pre[data-log-src]")
    status = admin.locator(".log-status")
    follow = admin.get_by_role("button", name="Follow")
    follow.click()
    expect(admin.get_by_role("button", name="Stop following")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(status).to_have_text("Following")
    expect(log).to_contain_text(re.compile(r"line \d+"), timeout=15_000)
    start = last_number(log)
    admin.wait_for_function(
        f"() => (document.querySelector('pre[data-log-src]').textContent.match(/line /g) "
        f"|| []).length > {start} + 30",
        timeout=20_000,
    )  # enough lines to scroll
    assert last_number(log) > start, "new lines arrive while following"

    log.evaluate("pre => { pre.scrollTop = 0; }")
    expect(status).to_contain_text("Paused while you read")
    resume = admin.get_by_role("button", name="Resume")
    expect(resume).to_be_visible()
    shown = log.text_content()
    expect(status).to_contain_text(re.compile(r"Paused while you read: \d+ new lines?"))
    assert log.text_content() == shown, "nothing is added under the reader's eyes"
    assert log.evaluate("pre => pre.scrollTop") == 0, "the reader stays where they are"

    held_before = last_number(log)
    resume.click()
    expect(status).to_have_text("Following")
    expect(resume).to_be_hidden()
    assert last_number(log) > held_before, "the held lines are shown on resuming"
    assert log.evaluate("pre => pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8")

    admin.get_by_role("button", name="Stop following").click()
    expect(follow).to_have_attribute("aria-pressed", "false")
    assert watched.problems == []
