"""How a cluster's versions are joined with Asgard's record of deploys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asgard.errors import NotFound
from asgard.models import AppSpec, AppVersion
from asgard.models.version import spec_hash
from asgard.services.app_history import attributed, history, previous

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def spec(mode: str, instances: int = 1) -> AppSpec:
    return AppSpec(cluster="c", id="web", image="web:1", env={"MODE": mode}, instances=instances)


def kept(id: str, mode: str, at: datetime | None) -> AppVersion:
    return AppVersion(id=id, spec=spec(mode), created_at=at)


def deploy(mode: str, at: datetime, by: str) -> AppVersion:
    return AppVersion(id=spec_hash(spec(mode)), spec=spec(mode), created_at=at, by=by)


S = timedelta(seconds=1)
DEPLOYS = [  # newest first: Ana made "a", Ben "b", Cy rolled back to "a"
    deploy("a", T0 + 20 * S, "cy"),
    deploy("b", T0 + 10 * S, "ben"),
    deploy("a", T0 + S, "ana"),
]


def test_each_kept_version_is_the_deploy_nearest_its_time() -> None:
    marathon = [kept("v3", "a", T0 + 20 * S), kept("v2", "b", T0 + 10 * S), kept("v1", "a", T0)]
    joined = history(marathon, DEPLOYS)
    assert [(v.id, v.by) for v in joined] == [("v3", "cy"), ("v2", "ben"), ("v1", "ana")]
    assert joined[2].created_at == T0, "an older version keeps the cluster's time"


def test_what_runs_is_whoever_deployed_its_spec_last() -> None:
    """A Deployment's reused ReplicaSet keeps the time it was made: what runs is the latest
    deploy's, and shows that deploy's time."""
    kubernetes = [kept("3", "a", T0), kept("2", "b", T0 + 10 * S)]
    joined = history(kubernetes, DEPLOYS)
    assert [(v.id, v.by) for v in joined] == [("3", "cy"), ("2", "ben")]
    assert joined[0].created_at == T0 + 20 * S


def test_older_specs_only_asgard_remembers_follow_once_each() -> None:
    engine = [kept(spec_hash(spec("a")), "a", None)]
    joined = history(engine, DEPLOYS)
    assert [(v.spec.env["MODE"], v.by) for v in joined] == [("a", "cy"), ("b", "ben")]
    assert joined[0].created_at == T0 + 20 * S, "the engine gives no time: the deploy's"


def test_a_version_asgard_did_not_deploy_has_no_one() -> None:
    outside = kept("v9", "z", T0)
    assert attributed(outside, DEPLOYS) == outside


def test_the_previous_version_is_the_newest_that_differs() -> None:
    restarted = [kept("4", "a", T0), kept("3", "a", T0), kept("2", "b", T0)]
    assert previous(restarted, "web", "c").id == "2"
    with pytest.raises(NotFound):
        previous([kept("1", "a", T0)], "web", "c")
    with pytest.raises(NotFound):
        previous([], "web", "c")
