"""Safe defaults on Mesos (the fakes): labels Marathon-LB and Marathon read are refused
before Marathon or Chronos is asked, and jobs carry the account owner's constraint."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.errors import InvalidValue
from asgard.models import Account, AppPatch, AppSpec, JobSpec
from tests.conftest import MesosCluster

DEV = Account(id=1, name="dev", namespace="dev")
TEAM_A = Account(id=2, name="a", namespace="team", owner="team-a")


@pytest.mark.parametrize(
    "labels",
    [{"HAPROXY_0_VHOST": "shop.example.com"}, {"haproxy_group": "external"}, {"MARATHON_X": "1"}],
)
async def test_routing_labels_are_refused_on_marathon_and_chronos(
    mesos: MesosCluster, labels: dict[str, str]
) -> None:
    call = mesos.orchestrator.call
    spec = AppSpec(cluster="mesos", id="web", image="nginx:1", labels=labels)
    job = JobSpec(cluster="mesos", name="once", image="etl:1", labels=labels)
    with pytest.raises(InvalidValue, match="reserves"):
        await call(DEV, "mesos", AppsBackend.create_app, spec)
    with pytest.raises(InvalidValue, match="reserves"):
        await call(DEV, "mesos", JobsBackend.create_job, job, None)
    assert not [a for a in mesos.marathon.apps if a.startswith("/dev/")]
    assert not [n for n in mesos.chronos.jobs if "once" in n]
    await call(
        DEV, "mesos", AppsBackend.create_app, AppSpec(cluster="mesos", id="web", image="nginx:1")
    )
    with pytest.raises(InvalidValue, match="reserves"):
        await call(DEV, "mesos", AppsBackend.update_app, "web", AppPatch(labels=labels))
    assert not set(labels) & set(mesos.marathon.apps["/dev/web"].get("labels") or {})


async def test_jobs_carry_the_owner_constraint(mesos: MesosCluster) -> None:
    job = JobSpec(cluster="mesos", name="once", image="etl:1", command=["run"])
    made = await mesos.orchestrator.call(TEAM_A, "mesos", JobsBackend.create_job, job, None)
    stored = [j for n, j in mesos.chronos.jobs.items() if made.id in n]
    assert len(stored) == 1
    assert stored[0]["constraints"] == [["owner", "LIKE", "team-a"]]
