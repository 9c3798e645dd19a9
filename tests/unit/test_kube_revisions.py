"""Pure parts of Kubernetes versions: what a kept template becomes, and the patch that
puts one back."""

from __future__ import annotations

from asgard.backends.kubernetes.revisions import (
    controller_revision_kept,
    merge_diff,
    replica_set_kept,
    template_problem,
)


def test_the_patch_removes_what_the_target_lacks_and_keeps_what_is_equal() -> None:
    current = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "f": "same"}
    target = {"b": {"c": 2}, "e": [1], "f": "same", "g": True}
    assert merge_diff(current, target) == {"a": None, "b": {"d": None}, "e": [1], "g": True}
    assert merge_diff(current, current) == {}


def test_a_kept_template_loses_what_its_controller_added() -> None:
    template = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {}}
    kept = replica_set_kept(
        {
            "metadata": {
                "creationTimestamp": "2026-12-01T12:00:00Z",
                "annotations": {
                    "deployment.kubernetes.io/revision": "4",
                    "deployment.kubernetes.io/desired-replicas": "3",
                },
            },
            "spec": {"replicas": 0, "template": template},
        }
    )
    assert kept is not None
    assert (kept.number, kept.replicas) == (4, 3)
    assert kept.template["metadata"]["labels"] == {"app": "web"}
    assert replica_set_kept({"metadata": {}, "spec": {"template": template}}) is None, (
        "a ReplicaSet its Deployment never numbered is no version"
    )
    revision = controller_revision_kept(
        {
            "revision": 2,
            "metadata": {},
            "data": {"spec": {"template": {**template, "$patch": "replace"}}},
        }
    )
    assert revision is not None
    assert "$patch" not in revision.template


def test_what_an_app_cannot_say_is_named() -> None:
    one = {"name": "a", "image": "x"}
    assert template_problem({"spec": {"containers": [one]}}) is None
    assert "2 containers" in str(template_problem({"spec": {"containers": [one, one]}}))
    assert "volumes" in str(template_problem({"spec": {"containers": [one], "volumes": [{}]}}))
    secret = {**one, "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {}}}]}
    assert "TOKEN" in str(template_problem({"spec": {"containers": [secret]}}))
