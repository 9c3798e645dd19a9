"""What is kept of answers made from caches stays bounded under change: one answer per
question (the newest version's), and a body no longer than its page."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from asgard.http.rendering import Bodies
from asgard.services.kept_answers import KeptAnswers


@dataclass(frozen=True)
class Page:
    items: list[str]


def test_a_newer_version_replaces_the_answer_to_the_same_question() -> None:
    kept: KeptAnswers[Page] = KeptAnswers(limit=2)
    old, new = Page(["a"]), Page(["a", "b"])
    kept.put("agents", ("k8s", 1), old)
    assert kept.get("agents", ("k8s", 1)) is old
    kept.put("agents", ("k8s", 2), new)
    assert kept.get("agents", ("k8s", 1)) is None, "the old answer is not kept beside"
    assert kept.get("agents", ("k8s", 2)) is new
    assert kept.get("agents", None) is None, "a live listing names nothing"
    kept.put("agents", None, Page([]))
    assert kept.get("agents", ("k8s", 2)) is None, "a newer live answer drops the kept one"
    for question in ("a", "b", "c"):
        kept.put(question, 1, Page([question]))
    assert kept.get("a", 1) is None, "the least recently asked question goes first"
    assert kept.get("c", 1) == Page(["c"])


def test_a_body_goes_with_its_page() -> None:
    bodies = Bodies()
    page = Page(["a"])
    bodies.put(page, b'{"agents":["a"]}')
    assert bodies.get(page) == b'{"agents":["a"]}'
    assert bodies.get(Page(["a"])) is None, "another page, even an equal one"
    del page
    gc.collect()
    assert len(bodies) == 0
