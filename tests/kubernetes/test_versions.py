"""Versions of Kubernetes workloads from what their controllers keep (played by the tests'
controllers, as the real ones keep them): ReplicaSet revisions, ControllerRevisions."""

from __future__ import annotations

from typing import Any

import pytest

from asgard.backends.contract import AppsBackend
from asgard.backends.kubernetes import names as N
from asgard.errors import NotSupported
from asgard.models import Account, AppPatch, AppSpec
from tests.conftest import KubeCluster

DEV = Account(id=1, name="dev", namespace="dev")
IMAGE = "busybox:1"


def workload(name: str, *, env: str, containers: int = 1, replicas: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "dev"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": f"c{n}", "image": IMAGE, "env": [{"name": "MODE", "value": env}]}
                        for n in range(containers)
                    ]
                },
            },
        },
    }


async def test_a_deployments_revisions_are_its_versions(kube: KubeCluster) -> None:
    call = kube.orchestrator.call
    spec = AppSpec(cluster="k8s", id="web", image=IMAGE, env={"MODE": "a"}, instances=2)
    await call(DEV, "k8s", AppsBackend.create_app, spec)
    await kube.controllers.reconcile()
    await call(DEV, "k8s", AppsBackend.update_app, "web", AppPatch(env={"MODE": "b"}))
    await kube.controllers.reconcile()

    found = await call(DEV, "k8s", AppsBackend.app_versions, "web")
    assert [(v.id, v.spec.env, v.spec.instances) for v in found] == [
        ("2", {"MODE": "b"}, 2),
        ("1", {"MODE": "a"}, 2),
    ]
    replica_sets = await kube.controllers.items("/apis/apps/v1/namespaces/dev/replicasets")
    assert len(replica_sets) == 2

    app = await call(DEV, "k8s", AppsBackend.rollback_app, "web", found[1])
    assert app.env == {"MODE": "a"}
    await kube.controllers.reconcile()
    again = await call(DEV, "k8s", AppsBackend.app_versions, "web")
    assert [(v.id, v.spec.env) for v in again] == [("3", {"MODE": "a"}), ("2", {"MODE": "b"})]
    replica_sets = await kube.controllers.items("/apis/apps/v1/namespaces/dev/replicasets")
    assert len(replica_sets) == 2, "the first ReplicaSet runs again, as revision 3"
    deployment = await kube.controllers.call("GET", "/apis/apps/v1/namespaces/dev/deployments/web")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert "pod-template-hash" not in labels, "the template went back as the Deployment had it"
    assert labels[N.APP_LABEL] == "web"


async def test_a_statefulsets_controller_revisions_are_its_versions(kube: KubeCluster) -> None:
    api = kube.controllers
    await api.call("POST", "/apis/apps/v1/namespaces/dev/statefulsets", workload("db", env="a"))
    await api.reconcile()
    await api.call(
        "PATCH",
        "/apis/apps/v1/namespaces/dev/statefulsets/db",
        {"spec": {"template": workload("db", env="b")["spec"]["template"]}},
    )
    await api.reconcile()

    found = await kube.orchestrator.call(DEV, "k8s", AppsBackend.app_versions, "db")
    assert [(v.id, v.spec.env, v.by) for v in found] == [
        ("2", {"MODE": "b"}, None),
        ("1", {"MODE": "a"}, None),
    ]
    await kube.orchestrator.call(DEV, "k8s", AppsBackend.rollback_app, "db", found[1])
    await api.reconcile()
    app = await kube.orchestrator.call(DEV, "k8s", AppsBackend.get_app, "db")
    assert app.env == {"MODE": "a"}


async def test_a_template_asgard_cannot_say_is_marked(kube: KubeCluster) -> None:
    api = kube.controllers
    await api.call(
        "POST", "/apis/apps/v1/namespaces/dev/daemonsets", workload("agent", env="a", containers=2)
    )
    await api.reconcile()
    [version] = await kube.orchestrator.call(DEV, "k8s", AppsBackend.app_versions, "agent")
    assert version.unsupported == "its pods run 2 containers; an app runs one"
    with pytest.raises(NotSupported):
        await kube.orchestrator.call(DEV, "k8s", AppsBackend.rollback_app, "agent", version)
