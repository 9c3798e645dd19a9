"""``deploy/``: the Kubernetes manifests and the compose file say what Asgard needs.

Every manifest is read into kubernetes_asyncio's model of its kind, with nothing the
model does not know (a misspelt field would be dropped silently by a real API server's
client and shows here as a difference), then applied to the Kubernetes emulator through
kubernetes_asyncio and read back. What the manifests say of Asgard itself is checked
against Asgard: its settings, its routes, its shutdown grace, the clusters file.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import yaml
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio import utils

from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.kubernetes.rbac import CLUSTER_RULES, NAMESPACE_RULES, namespace_rbac_yaml
from asgard.server import create_app
from asgard.settings import Settings, read_clusters_file
from testbed.kube import Emulator

DEPLOY = Path(__file__).parent.parent / "deploy"
MANIFESTS = DEPLOY / "kubernetes"
PRE_STOP_S = 5

Manifest = dict[str, Any]


def manifests() -> Iterator[tuple[str, Manifest]]:
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path.name, document


def by_kind() -> dict[str, Manifest]:
    return {m["kind"]: m for _, m in manifests()}


def model_of(api: k8s.ApiClient, manifest: Manifest) -> Any:
    """The kubernetes_asyncio model of the manifest's kind (V1Deployment, ...), as the
    client builds it from an API server's answer."""
    version = manifest["apiVersion"].rsplit("/", 1)[-1].capitalize()
    deserialize = getattr(api, "_ApiClient__deserialize")  # noqa: B009 (name-mangled)
    return deserialize(manifest, f"{version}{manifest['kind']}")


def plain(value: Any) -> Any:
    """YAML's ints where the model keeps strings (``value: "30"``) compared alike."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return str(value)


async def test_every_manifest_is_a_valid_object_of_its_kind_with_no_unknown_field() -> None:
    found = list(manifests())
    kinds = sorted(m["kind"] for _, m in found)
    assert kinds == sorted(
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Deployment",
            "Namespace",
            "PersistentVolumeClaim",
            "PodDisruptionBudget",
            "Secret",
            "Service",
            "ServiceAccount",
        ]
    )
    async with k8s.ApiClient() as api:
        for name, manifest in found:
            again = api.sanitize_for_serialization(model_of(api, manifest))
            assert plain(again) == plain(manifest), f"{name}: a field its model does not know"


def test_the_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(files)


def setting_names() -> set[str]:
    return {f"ASGARD_{name.upper()}" for name in Settings.model_fields}


def test_the_deployment_runs_asgard_as_asgard_expects() -> None:
    kinds = by_kind()
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    pod = deployment["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert set(env) <= setting_names(), set(env) - setting_names()
    secret = kinds["Secret"]
    for entry in env.values():
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == secret["metadata"]["name"]
            assert ref["key"] in secret["stringData"]
    assert {"ASGARD_SECRET_KEY", "ASGARD_DB_URL"} <= {
        n for n, e in env.items() if "valueFrom" in e
    }, "secrets come from the Secret, never from the manifest"
    assert env["ASGARD_ENV"]["value"] == "production"
    port = int(env["ASGARD_PORT"]["value"])
    assert container["ports"][0]["containerPort"] == port
    grace = float(env["ASGARD_SHUTDOWN_GRACE_S"]["value"])
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] == PRE_STOP_S
    assert pod["terminationGracePeriodSeconds"] > grace + PRE_STOP_S

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(data_dir=Path(folder), db_url=f"sqlite:///{folder}/a.db"))
        paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] in paths, probe

    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    config_file = Path(env["ASGARD_CONFIG"]["value"])
    assert mounts[str(config_file.parent)] == "config"
    assert mounts[env["ASGARD_DATA_DIR"]["value"]] == "data"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["config"]["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert claim == kinds["PersistentVolumeClaim"]["metadata"]["name"]
    assert kinds["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"], (
        "every replica reads the job files any of them received"
    )

    labels = deployment["template"]["metadata"]["labels"]
    for selector in (
        kinds["Service"]["spec"]["selector"],
        deployment["selector"]["matchLabels"],
        kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    assert pod["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"]


def test_the_config_map_holds_a_clusters_file_asgard_reads(tmp_path: Path) -> None:
    toml = by_kind()["ConfigMap"]["data"]["asgard.toml"]
    (tmp_path / "asgard.toml").write_text(toml)
    [here] = read_clusters_file(tmp_path / "asgard.toml")
    assert isinstance(here, KubernetesClusterConfig)
    assert here.in_cluster, "the cluster Asgard runs in, through its service account"


USED: list[tuple[str, str, str]] = [
    ("", "namespaces", "get"),
    ("apps", "deployments/scale", "patch"),
    ("", "secrets", "patch"),
    ("", "persistentvolumeclaims", "patch"),
    ("", "nodes", "watch"),
    ("", "pods", "watch"),
    ("", "pods", "delete"),
    ("", "pods/log", "get"),
    ("apps", "deployments", "create"),
    ("apps", "deployments", "patch"),
    ("apps", "deployments", "delete"),
    ("apps", "statefulsets", "watch"),
    ("apps", "daemonsets", "watch"),
    ("apps", "replicasets", "list"),
    ("apps", "controllerrevisions", "list"),
    ("batch", "jobs", "create"),
    ("batch", "jobs", "watch"),
    ("batch", "cronjobs", "patch"),
    ("", "persistentvolumeclaims", "create"),
    ("", "secrets", "create"),
    ("metrics.k8s.io", "nodes", "list"),
]
"""What the Kubernetes backend does on its cluster (its change feed watches every
namespace; each account works in a namespace of its own)."""


def _grants(rules: list[Manifest], group: str, resource: str, verb: str) -> bool:
    return any(
        group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules
    )


def test_the_roles_allow_what_the_kubernetes_backend_does() -> None:
    """Cluster-wide reads, and every change in an account's namespace alone."""
    cluster_wide = by_kind()["ClusterRole"]["rules"]
    assert cluster_wide == CLUSTER_RULES, "deploy/ and rbac.py say the same"
    for group, resource, verb in USED:
        assert _grants(cluster_wide, group, resource, verb) or _grants(
            NAMESPACE_RULES, group, resource, verb
        ), (group, resource, verb)
    cluster_verbs = {verb for rule in cluster_wide for verb in rule["verbs"]}
    assert cluster_verbs <= {"get", "list", "watch"}, "nothing changes outside a namespace"
    assert not any("secrets" in r["resources"] for r in cluster_wide)
    binding = by_kind()["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == by_kind()["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"][0]["name"] == by_kind()["ServiceAccount"]["metadata"]["name"]


@pytest.fixture
async def emulator_api() -> AsyncIterator[tuple[Emulator, k8s.ApiClient]]:
    async with Emulator() as emulator, kmock.Server(emulator) as server:
        for resource in (
            "v1/serviceaccounts",
            "v1/configmaps",
            "v1/secrets",
            "v1/services",
            "v1/persistentvolumeclaims",
            "apps/v1/deployments",
            "policy/v1/poddisruptionbudgets",
            "rbac.authorization.k8s.io/v1/clusterroles",
            "rbac.authorization.k8s.io/v1/clusterrolebindings",
            "rbac.authorization.k8s.io/v1/roles",
            "rbac.authorization.k8s.io/v1/rolebindings",
        ):
            emulator.resources[resource] = kmock.ResourceInfo()
        configuration = k8s.Configuration(host=str(server.url).rstrip("/"))
        async with k8s.ApiClient(configuration) as api:
            yield emulator, api


async def test_the_manifests_apply_to_a_kubernetes_api(
    emulator_api: tuple[Emulator, k8s.ApiClient],
) -> None:
    _, api = emulator_api
    for name, manifest in manifests():
        if manifest["kind"] == "Namespace":
            continue  # kmock cannot parse a POST to /api/v1/namespaces; it needs none
        created = await utils.create_from_dict(api, manifest)
        assert created, name
    deployment = await k8s.AppsV1Api(api).read_namespaced_deployment("asgard", "asgard")
    assert deployment.spec.replicas == 3
    container = deployment.spec.template.spec.containers[0]
    assert container.readiness_probe.http_get.path == "/ready"
    config = await k8s.CoreV1Api(api).read_namespaced_config_map("asgard", "asgard")
    assert "in_cluster = true" in config.data["asgard.toml"]
    role = await k8s.RbacAuthorizationV1Api(api).read_cluster_role("asgard")
    assert {v for rule in role.rules for v in rule.verbs} == {"get", "list", "watch"}
    budget = await k8s.PolicyV1Api(api).read_namespaced_pod_disruption_budget("asgard", "asgard")
    assert budget.spec.max_unavailable == 1


def test_an_accounts_role_grants_exactly_what_asgard_does_in_its_namespace() -> None:
    """What ``asgard clusters rbac`` prints: valid objects, exactly these verbs."""
    found = list(yaml.safe_load_all(namespace_rbac_yaml("team")))
    assert [m["kind"] for m in found] == ["Role", "RoleBinding"]
    role, binding = found
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "team"
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    write = ["get", "list", "watch", "create", "update", "patch", "delete"]
    wanted = {
        *(("", "pods", v) for v in ["get", "list", "watch", "delete"]),
        ("", "pods/log", "get"),
        *(("", "events", v) for v in ["get", "list", "watch"]),
        *(("apps", r, v) for r in ["deployments", "statefulsets", "daemonsets"] for v in write),
        *(
            ("apps", r, v)
            for r in ["deployments/scale", "statefulsets/scale"]
            for v in ["get", "update", "patch"]
        ),
        *(
            ("apps", r, v)
            for r in ["replicasets", "controllerrevisions"]
            for v in ["get", "list", "watch"]
        ),
        *(("batch", r, v) for r in ["jobs", "cronjobs"] for v in write),
        *(("", "persistentvolumeclaims", v) for v in ["get", "list", "create", "patch", "delete"]),
        *(("", "secrets", v) for v in ["get", "create", "patch", "delete"]),
    }
    assert granted == wanted
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "asgard", "namespace": "asgard"}
    ]


async def test_an_accounts_role_applies_to_a_kubernetes_api(
    emulator_api: tuple[Emulator, k8s.ApiClient],
) -> None:
    _, api = emulator_api
    for manifest in yaml.safe_load_all(namespace_rbac_yaml("team")):
        assert model_of(api, manifest) is not None
        await utils.create_from_dict(api, manifest)
    rbac = k8s.RbacAuthorizationV1Api(api)
    role = await rbac.read_namespaced_role("asgard", "team")
    assert any(rule.resources == ["secrets"] for rule in role.rules)
    binding = await rbac.read_namespaced_role_binding("asgard", "team")
    assert binding.role_ref.kind == "Role"


def test_the_compose_file_runs_asgard_on_postgres(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"asgard", "postgres"}
    asgard = services["asgard"]
    env = asgard["environment"]
    assert set(env) <= setting_names(), set(env) - setting_names()
    assert env["ASGARD_DB_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["ASGARD_DB_URL"], "the compose service, by its name"
    assert asgard["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/ready" in " ".join(asgard["healthcheck"]["test"])
    grace_s = float(env["ASGARD_SHUTDOWN_GRACE_S"])
    assert float(asgard["stop_grace_period"].removesuffix("s")) > grace_s
    assert (DEPLOY.parent / asgard["build"]["dockerfile"]).is_file()
    mounted = {v.split(":")[1]: v.split(":")[0] for v in asgard["volumes"]}
    clusters_file = DEPLOY / mounted[env["ASGARD_CONFIG"]]
    [local] = read_clusters_file(clusters_file)
    assert local.kind == "docker"
