"""Safe defaults on Kubernetes (the emulator): apps' pods locked down, jobs and scheduled
jobs on the account owner's nodes, reserved labels refused before the API server is asked."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AppsBackend, JobsBackend, ScheduledJobsBackend
from asgard.backends.safety import APP_CAPABILITIES
from asgard.errors import InvalidValue
from asgard.models import Account, AppSpec, JobSpec, Schedule, ScheduledJobSpec
from tests.conftest import KubeCluster, running_kube

DEV = Account(id=1, name="dev", namespace="dev")
TEAM_A = Account(id=2, name="a", namespace="dev", owner="team-a")
IMAGE = "busybox:1"


def pod_template(obj: dict[str, object]) -> dict[str, object]:
    spec = obj["spec"]
    assert isinstance(spec, dict)
    return dict(spec["template"]["spec"])


async def test_an_apps_pods_are_locked_down_by_default(kube: KubeCluster) -> None:
    spec = AppSpec(cluster="k8s", id="web", image=IMAGE)
    await kube.orchestrator.call(DEV, "k8s", AppsBackend.create_app, spec)
    made = await kube.controllers.call("GET", "/apis/apps/v1/namespaces/dev/deployments/web")
    pod = pod_template(made)
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    container = pod["containers"][0]  # type: ignore[index]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["privileged"] is False
    assert security["capabilities"] == {"drop": ["ALL"], "add": list(APP_CAPABILITIES)}
    assert "runAsUser" not in security, "an app's image keeps its own user"


async def test_a_cluster_entry_can_lift_the_app_defaults() -> None:
    async with running_kube(app_defaults="none") as kube:
        spec = AppSpec(cluster="k8s", id="web", image=IMAGE)
        await kube.orchestrator.call(DEV, "k8s", AppsBackend.create_app, spec)
        made = await kube.controllers.call("GET", "/apis/apps/v1/namespaces/dev/deployments/web")
        pod = pod_template(made)
        assert "securityContext" not in pod
        assert "securityContext" not in pod["containers"][0]  # type: ignore[index]


async def test_a_cluster_entry_can_give_apps_their_service_account_token() -> None:
    """For apps that call the Kubernetes API: the token alone; the rest stays locked down."""
    async with running_kube(app_service_account_token=True) as kube:
        spec = AppSpec(cluster="k8s", id="web", image=IMAGE)
        await kube.orchestrator.call(DEV, "k8s", AppsBackend.create_app, spec)
        path = "/apis/apps/v1/namespaces/dev/deployments/web"
        pod = pod_template(await kube.controllers.call("GET", path))
        assert pod["automountServiceAccountToken"] is True
        assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
        security = pod["containers"][0]["securityContext"]  # type: ignore[index]
        assert security["allowPrivilegeEscalation"] is False


async def test_jobs_and_scheduled_jobs_run_on_the_owners_nodes(kube: KubeCluster) -> None:
    call = kube.orchestrator.call
    job = await call(
        TEAM_A,
        "k8s",
        JobsBackend.create_job,
        JobSpec(cluster="k8s", name="once", image=IMAGE),
        None,
    )
    made = await kube.controllers.call("GET", f"/apis/batch/v1/namespaces/dev/jobs/{job.id}")
    assert pod_template(made)["nodeSelector"] == {"owner": "team-a"}

    schedule = ScheduledJobSpec(
        cluster="k8s", name="nightly", image=IMAGE, schedule=Schedule(value="0 3 * * *")
    )
    await call(TEAM_A, "k8s", ScheduledJobsBackend.create_scheduled_job, schedule)
    cron = await kube.controllers.call("GET", "/apis/batch/v1/namespaces/dev/cronjobs/nightly")
    template = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert template["nodeSelector"] == {"owner": "team-a"}

    unowned = await call(
        DEV, "k8s", JobsBackend.create_job, JobSpec(cluster="k8s", name="free", image=IMAGE), None
    )
    made = await kube.controllers.call("GET", f"/apis/batch/v1/namespaces/dev/jobs/{unowned.id}")
    assert "nodeSelector" not in pod_template(made)


@pytest.mark.parametrize(
    "labels", [{"kubernetes.io/hostname": "node-1"}, {"io.kubernetes.pod.namespace": "x"}]
)
async def test_reserved_labels_are_refused_before_the_cluster_is_asked(
    kube: KubeCluster, labels: dict[str, str]
) -> None:
    call = kube.orchestrator.call
    with pytest.raises(InvalidValue, match="reserves"):
        await call(
            DEV,
            "k8s",
            AppsBackend.create_app,
            AppSpec(cluster="k8s", id="web", image=IMAGE, labels=labels),
        )
    spec = JobSpec(cluster="k8s", name="once", image=IMAGE, labels=labels)
    with pytest.raises(InvalidValue, match="reserves"):
        await call(DEV, "k8s", JobsBackend.create_job, spec, None)
    assert await kube.controllers.items("/apis/apps/v1/namespaces/dev/deployments") == []
    assert await kube.controllers.items("/apis/batch/v1/namespaces/dev/jobs") == []
    # the recommended labels stay the tenants'
    fine = AppSpec(cluster="k8s", id="web", image=IMAGE, labels={"app.kubernetes.io/name": "web"})
    await call(DEV, "k8s", AppsBackend.create_app, fine)
