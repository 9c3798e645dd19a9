"""What the workflow feed sends, given what it saw last and what the database holds now."""

from __future__ import annotations

from asgard.workflows.feed import changes


def test_changes_are_added_modified_and_deleted_and_nothing_else() -> None:
    before = {
        ("local", "etl-1"): {"id": "etl-1", "state": "running"},
        ("local", "etl-2"): {"id": "etl-2", "state": "succeeded"},
        ("k8s", "etl-3"): {"id": "etl-3", "state": "pending"},
    }
    now = {
        ("local", "etl-1"): {"id": "etl-1", "state": "succeeded"},
        ("local", "etl-2"): {"id": "etl-2", "state": "succeeded"},
        ("k8s", "etl-4"): {"id": "etl-4", "state": "pending"},
    }
    sent = {(e.cluster, e.id, e.change): e.object for e in changes(before, now)}
    assert sent == {
        ("local", "etl-1", "modified"): {"id": "etl-1", "state": "succeeded"},
        ("k8s", "etl-4", "added"): {"id": "etl-4", "state": "pending"},
        ("k8s", "etl-3", "deleted"): None,
    }
    assert all(e.kind == "workflow" for e in changes(before, now))
    assert changes(now, now) == []
