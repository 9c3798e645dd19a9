"""Engine names on a real Docker Engine and Swarm: one namespace cannot take another's
name, and what Asgard made under the names it gave before (``<namespace>-<app>``) is still
found, changed and removed for the namespace its labels say, and for no other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.contract import AppsBackend, JobsBackend, WorkspaceMount
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.specs import legacy_name, object_name, service_spec
from asgard.backends.docker.workspaces import workspace_volume
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import NotFound
from asgard.models import Account, AppPatch, AppSpec, JobSpec, WorkflowVolume
from asgard.testing.harness import SERVE_FOREVER
from tests.conftest import docker_cluster
from tests.support.dockerd import TEST_IMAGE, DockerDaemon

TEAM = Account(id=1, name="team", namespace="team")
TEAM_B = Account(id=2, name="team-b", namespace="team-b")
SETTLE_S = 60


@pytest.fixture
def daemon(request: pytest.FixtureRequest) -> DockerDaemon:
    found: DockerDaemon = request.getfixturevalue(request.param)
    return found


BOTH_MODES = pytest.mark.parametrize("daemon", ["engine", "swarm"], indirect=True)


@pytest.fixture
async def fleet(daemon: DockerDaemon) -> AsyncIterator[tuple[Orchestrator, DockerClient]]:
    cluster: Cluster = await docker_cluster("local", daemon)
    client = cluster.client
    assert isinstance(client, DockerClient)
    fleet = Orchestrator([cluster])
    yield fleet, client
    await fleet.close()


def app(app_id: str, instances: int = 1) -> AppSpec:
    return AppSpec(
        cluster="local", id=app_id, image=TEST_IMAGE, args=SERVE_FOREVER, instances=instances
    )


async def names(client: DockerClient) -> set[str]:
    """Every container and service name on the engine."""
    found = {str(c["Names"][0]).lstrip("/") for c in await client.containers()}
    if (await client.mode()).swarm:
        found |= {str(s["Spec"]["Name"]) for s in await client.services()}
    return found


async def eventually_running(fleet: Orchestrator, account: Account, app_id: str, n: int) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        found = await fleet.call(account, "local", AppsBackend.get_app, app_id)
        if found.instances.running == n and found.instances.desired == n:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{account.namespace}/{app_id} never ran {n} instance(s)")


def test_names_cannot_collide_across_namespaces() -> None:
    assert object_name("team", "b-api") != object_name("team-b", "api")
    assert object_name("team", "b/api") != object_name("team-b", "api")
    assert object_name("team", "b-api") == "team_b-api"
    assert object_name("dev", "team/api") != object_name("dev", "team-api")
    assert legacy_name("team", "b-api") == legacy_name("team-b", "api"), "the old flaw"


@BOTH_MODES
async def test_a_prefix_namespace_cannot_squat_a_name(
    fleet: tuple[Orchestrator, DockerClient],
) -> None:
    orchestrator, client = fleet
    await orchestrator.call(TEAM_B, "local", AppsBackend.create_app, app("api"))
    await orchestrator.call(TEAM, "local", AppsBackend.create_app, app("b-api"))
    await eventually_running(orchestrator, TEAM_B, "api", 1)
    await eventually_running(orchestrator, TEAM, "b-api", 1)
    on_engine = await names(client)
    assert object_name("team-b", "api") in on_engine
    assert object_name("team", "b-api") in on_engine

    await orchestrator.call(TEAM, "local", AppsBackend.delete_app, "b-api")
    with pytest.raises(NotFound):
        await orchestrator.call(TEAM, "local", AppsBackend.get_app, "api")
    assert (await orchestrator.call(TEAM_B, "local", AppsBackend.get_app, "api")).id == "api"


async def legacy_app(client: DockerClient, fleet: Orchestrator, account: Account) -> None:
    """App ``api`` of the account as Asgard made it before: under ``<namespace>-api``."""
    spec = app("api")
    if (await client.mode()).swarm:
        await client.create_service(
            service_spec(account, spec, legacy_name(account.namespace, "api"))
        )
        return
    await fleet.call(account, "local", AppsBackend.create_app, spec)
    for container in await client.containers(L.namespace_filter(account.namespace, L.APP)):
        role = container["Labels"].get(L.ROLE)
        old = legacy_name(account.namespace, "api", *(() if role == L.ROLE_DEFINITION else ("x1",)))
        await client.rename_container(container["Id"], old)
    assert legacy_name(account.namespace, "api") in await names(client)


@BOTH_MODES
async def test_objects_under_the_old_names_are_still_the_namespaces_own(
    fleet: tuple[Orchestrator, DockerClient],
) -> None:
    orchestrator, client = fleet
    await legacy_app(client, orchestrator, TEAM_B)
    await eventually_running(orchestrator, TEAM_B, "api", 1)
    assert [
        a.id for a in (await orchestrator.fan_out(TEAM_B, None, AppsBackend.list_apps)).items
    ] == ["api"]
    assert (await orchestrator.fan_out(TEAM, None, AppsBackend.list_apps)).items == []
    for account, app_id in ((TEAM, "b-api"), (TEAM, "api")):
        with pytest.raises(NotFound):
            await orchestrator.call(account, "local", AppsBackend.get_app, app_id)
        with pytest.raises(NotFound):
            await orchestrator.call(account, "local", AppsBackend.delete_app, app_id)

    await orchestrator.call(TEAM_B, "local", AppsBackend.update_app, "api", AppPatch(instances=2))
    await eventually_running(orchestrator, TEAM_B, "api", 2)
    await orchestrator.call(TEAM_B, "local", AppsBackend.delete_app, "api")
    with pytest.raises(NotFound):
        await orchestrator.call(TEAM_B, "local", AppsBackend.get_app, "api")
    assert not [n for n in await names(client) if n.startswith("team")]


@BOTH_MODES
async def test_a_workflow_volume_under_its_old_name_is_used_and_removed(
    fleet: tuple[Orchestrator, DockerClient],
) -> None:
    orchestrator, client = fleet
    old = legacy_name("team-b", "wf", "w1")
    await client.create_volume(old, {L.NAMESPACE: "team-b", L.WORKFLOW: "w1"})
    await orchestrator.call(TEAM_B, "local", JobsBackend.create_workspace, "w1", WorkflowVolume())
    spec = JobSpec(
        cluster="local", name="stage", image=TEST_IMAGE, command=["sh", "-c", "echo 1 > /output/n"]
    )
    mount = WorkspaceMount(workspace="w1", input_dir=None, output_dir="stage-0")
    job = await orchestrator.call(TEAM_B, "local", JobsBackend.create_job, spec, None, mount)
    volumes = {v["Name"] for v in await client.volumes({"label": [f"{L.NAMESPACE}=team-b"]})}
    assert old in volumes, "the workflow's volume is the one it had"
    assert workspace_volume("team-b", "w1") not in volumes, "no second volume was made"
    assert all(v.startswith("team-b__job_") for v in volumes - {old}), volumes

    await orchestrator.call(TEAM_B, "local", JobsBackend.delete_job, job.id)
    await orchestrator.call(TEAM_B, "local", JobsBackend.delete_workspace, "w1")
    assert await client.volumes({"label": [f"{L.NAMESPACE}=team-b"]}) == []
