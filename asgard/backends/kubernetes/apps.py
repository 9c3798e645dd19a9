"""Deployments, StatefulSets and DaemonSets as apps; their pods as tasks.

Writes go to Deployments and StatefulSets (DaemonSets are read and deleted):
create builds a Deployment, ``instances`` goes through the ``scale``
subresource, other changes are merge patches of the workload, a restart is the
``kubectl.kubernetes.io/restartedAt`` annotation, and a delete cascades.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from asgard.backends.common import Json, app_taken
from asgard.backends.contract import AppsBackend, LogLines, LogStream
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import MERGE_PATCH, KubeClient
from asgard.backends.kubernetes.config import KIND
from asgard.backends.kubernetes.converters import (
    container_resources,
    deployment,
    env_list,
    owning_workload,
    selector_of,
    workload_to_app,
)
from asgard.backends.kubernetes.logs import pod_lines
from asgard.backends.kubernetes.records import pod_record, task_of
from asgard.backends.kubernetes.revisions import Revisions
from asgard.backends.kubernetes.stats import app_stats
from asgard.backends.kubernetes.views import StoreView
from asgard.backends.kubernetes.workloads import PLURAL, WorkloadReader, workload_path
from asgard.backends.log_lines import no_lines, unknown_task
from asgard.backends.log_streams import merge
from asgard.errors import Conflict, NotFound, NotSupported
from asgard.models import (
    Account,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    AppVersion,
    StatsWindow,
    Task,
)
from asgard.models.base import utc_now

PENDING_POLL_S = 1.0
"""How often a followed pod that has not started is asked whether it has."""


class KubernetesAppsBackend(AppsBackend):
    def __init__(self, client: KubeClient, workloads: WorkloadReader, view: StoreView) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.workloads = workloads
        self.revisions = Revisions(client)
        self.view = view

    async def list_apps(self, account: Account) -> list[App]:
        return [app for _, _, app in await self.workloads.all(account)]

    async def get_app(self, account: Account, app_id: str) -> App:
        kind, found = await self.workloads.find(account, app_id)
        return workload_to_app(kind, found, cluster=self.cluster)

    async def _pods(self, account: Account, workload: Json) -> list[Json]:
        pods, _ = await self.client.list_all(
            ("api", "v1", "namespaces", account.namespace, "pods"),
            what="list pods",
            params={"labelSelector": selector_of(workload)},
        )
        return pods

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        _, found = await self.workloads.find(account, app_id)
        pods = await self._pods(account, found)
        return sorted(
            (task_of(pod_record(p), cluster=self.cluster, app_id=app_id) for p in pods),
            key=lambda t: t.id,
        )

    async def list_all_tasks(self, account: Account) -> list[Task]:
        """From the store while it is current; else one list of the namespace's pods, each
        matched to its workload."""
        if await self.view.store.settled():
            return self.view.tasks(account)
        workloads = {(kind, name): app.id for kind, name, app in await self.workloads.all(account)}
        pods, _ = await self.client.list_all(
            ("api", "v1", "namespaces", account.namespace, "pods"), what="list pods"
        )
        tasks = []
        for pod in pods:
            owner = owning_workload(pod)
            if owner in workloads:
                tasks.append(
                    task_of(pod_record(pod), cluster=self.cluster, app_id=workloads[owner])
                )
        return tasks

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        name = N.object_name(spec.id)
        for kind in PLURAL:
            try:
                await self.client.request(
                    "GET", workload_path(account.namespace, kind, name), what="app"
                )
            except NotFound:
                continue
            raise app_taken(spec.id, self.cluster)
        try:
            created = await self.client.request(
                "POST",
                workload_path(account.namespace, "Deployment"),
                what=f"create app {spec.id}",
                body=deployment(account, spec, lockdown=self.client.config.lockdown()),
            )
        except Conflict:
            raise app_taken(spec.id, self.cluster) from None
        except NotFound:
            raise NotFound(
                f"namespace '{account.namespace}' does not exist on cluster {self.cluster}",
                cluster=self.cluster,
            ) from None
        return workload_to_app("Deployment", created, cluster=self.cluster)

    async def _writable(self, account: Account, app_id: str, doing: str) -> tuple[str, Json]:
        kind, found = await self.workloads.find(account, app_id)
        if kind == "DaemonSet":
            raise NotSupported(KIND, f"{doing} DaemonSets", cluster=self.cluster)
        return kind, found

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        kind, found = await self._writable(account, app_id, "changing")
        name = found["metadata"]["name"]
        path = workload_path(account.namespace, kind, name)
        changes = _template_changes(found, patch)
        if changes:
            await self.client.request(
                "PATCH", path, what=f"update app {app_id}", body=changes, content_type=MERGE_PATCH
            )
        if patch.instances is not None:
            await self.client.request(
                "PATCH",
                (*path, "scale"),
                what=f"scale app {app_id}",
                body={"spec": {"replicas": patch.instances}},
                content_type=MERGE_PATCH,
            )
        return await self.get_app(account, app_id)

    async def restart_app(self, account: Account, app_id: str) -> App:
        kind, found = await self._writable(account, app_id, "restarting")
        body = {
            "spec": {
                "template": {"metadata": {"annotations": {N.RESTARTED_AT: utc_now().isoformat()}}}
            }
        }
        await self.client.request(
            "PATCH",
            workload_path(account.namespace, kind, found["metadata"]["name"]),
            what=f"restart app {app_id}",
            body=body,
            content_type=MERGE_PATCH,
        )
        return await self.get_app(account, app_id)

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """A Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions."""
        kind, found = await self.workloads.find(account, app_id)
        return await self.revisions.versions(account, kind, found)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        """Kubernetes refuses no rollback during a rollout: the new template supersedes it."""
        kind, found = await self._writable(account, app_id, "rolling back")
        await self.revisions.roll_back(account, kind, found, version)
        return await self.get_app(account, app_id)

    async def delete_app(self, account: Account, app_id: str) -> None:
        kind, found = await self.workloads.find(account, app_id)
        await self.client.request(
            "DELETE",
            workload_path(account.namespace, kind, found["metadata"]["name"]),
            what=f"delete app {app_id}",
            params={"propagationPolicy": "Background"},
        )

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        _, found = await self.workloads.find(account, app_id)
        return await app_stats(
            self.client, account.namespace, selector_of(found), await self._pods(account, found)
        )

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        _, found = await self.workloads.find(account, app_id)
        pods = [
            p
            for p in await self._pods(account, found)
            if (p.get("status") or {}).get("phase") != "Pending"
        ]
        return merge(
            {
                p["metadata"]["name"]: self._pod_log(
                    account.namespace, p["metadata"]["name"], tail, follow
                )
                for p in pods
            }
        )

    async def task_logs(
        self,
        account: Account,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """A task is one of the workload's pods; its app's container (the first) is read.
        A pod whose container has not started has nothing to read yet: followed, it is
        read once it has."""
        _, found = await self.workloads.find(account, app_id)
        pods = {p["metadata"]["name"]: p for p in await self._pods(account, found)}
        pod = pods.get(task_id)
        if pod is None:
            raise unknown_task(app_id, task_id, self.cluster)
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        lines = pod_lines(
            self.client,
            account.namespace,
            task_id,
            container=containers[0].get("name"),
            tail=tail,
            since=since,
            follow=follow,
        )
        if _phase(pod) != "Pending":
            return lines
        return self._once_started(account.namespace, task_id, lines) if follow else no_lines()

    async def _once_started(self, namespace: str, pod: str, lines: LogLines) -> LogLines:
        path = ("api", "v1", "namespaces", namespace, "pods", pod)
        try:
            while True:
                if _phase(await self.client.request("GET", path, what=f"pod {pod}")) != "Pending":
                    break
                await asyncio.sleep(PENDING_POLL_S)
        except NotFound:  # deleted before it ran
            return
        async for line in lines:
            yield line

    async def _pod_log(self, namespace: str, pod: str, tail: int, follow: bool) -> LogStream:
        params = {"tailLines": str(tail), "follow": "true" if follow else "false"}
        async with self.client.stream(
            ("api", "v1", "namespaces", namespace, "pods", pod, "log"),
            what=f"logs of {pod}",
            params=params,
        ) as response:
            async for chunk in response.content.iter_any():
                yield chunk


def _phase(pod: Json) -> str | None:
    return (pod.get("status") or {}).get("phase")


def _template_changes(workload: Json, patch: AppPatch) -> dict[str, Any]:
    """A merge patch for everything but the instance count. Lists are replaced whole by a
    merge patch, so the containers go in complete, with only the app's container changed."""
    template = ((workload.get("spec") or {}).get("template")) or {}
    containers = [dict(c) for c in (template.get("spec") or {}).get("containers") or []]
    if not containers:
        return {}
    main = containers[0]
    changed = False
    if patch.image is not None:
        main["image"], changed = patch.image, True
    if patch.cmd is not None:
        main["command"], changed = patch.cmd, True
    if patch.args is not None:
        main["args"], changed = patch.args, True
    if patch.env is not None:
        main["env"], changed = env_list(patch.env), True
    if patch.resources is not None:
        main["resources"], changed = container_resources(patch.resources), True
    changes: dict[str, Any] = {}
    if changed:
        changes = {"spec": {"template": {"spec": {"containers": containers}}}}
    if patch.labels is not None:
        current = N.user_labels((workload.get("metadata") or {}).get("labels"))
        labels: dict[str, str | None] = {k: None for k in current if k not in patch.labels}
        labels.update(N.user_labels(patch.labels))
        changes.setdefault("metadata", {})["labels"] = labels
        template_labels = (
            changes.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
        )
        template_labels["labels"] = labels
    return changes
