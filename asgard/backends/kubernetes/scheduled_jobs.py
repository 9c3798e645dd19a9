"""Scheduled jobs as CronJobs. Every field of a ScheduledJob has its place in the CronJob,
so a round trip keeps them all: ``concurrent`` is the concurrency policy, ``enabled`` the
opposite of ``suspend``, ``tz`` the ``timeZone``, the description an annotation."""

from __future__ import annotations

import math
from typing import Any

from asgard.backends.common import Json, Segments, schedule_taken
from asgard.backends.contract import ScheduledJobsBackend
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import MERGE_PATCH, KubeClient
from asgard.backends.kubernetes.config import KIND
from asgard.backends.kubernetes.converters import container_resources, env_list, owner_selector
from asgard.backends.kubernetes.job_manifests import NOBODY
from asgard.backends.kubernetes.quantities import cpu_cores, mebibytes
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import Account, ResourceLimits, Schedule, ScheduledJob, ScheduledJobSpec

DESCRIPTION = "asgard.io/description"


def cronjobs_path(namespace: str, name: str | None = None) -> Segments:
    base = ("apis", "batch", "v1", "namespaces", namespace, "cronjobs")
    return (*base, name) if name else base


def cronjob(account: Account, spec: ScheduledJobSpec) -> Json:
    if spec.schedule.value.startswith("R"):
        raise InvalidValue(
            "Kubernetes CronJobs take cron expressions (such as '0 3 * * *'), "
            "not ISO 8601 repeating intervals",
            field="schedule.value",
        )
    container: dict[str, Any] = {
        "name": "job",
        "image": spec.image,
        "env": env_list(spec.env),
        "resources": container_resources(spec.resources),
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    if spec.command:
        container["command"] = spec.command
    if spec.args:
        container["args"] = spec.args
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.retries,
        "template": {
            "metadata": {"labels": {N.JOB_NAME_LABEL: spec.name}},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": NOBODY,
                    "runAsGroup": NOBODY,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                **owner_selector(account.owner),
                "containers": [container],
            },
        },
    }
    annotations = {DESCRIPTION: spec.description, N.RETRIES_ANNOTATION: str(spec.retries)}
    if spec.timeout_s is not None:
        job_spec["activeDeadlineSeconds"] = math.ceil(spec.timeout_s)
        annotations[N.TIMEOUT_ANNOTATION] = f"{spec.timeout_s:g}"
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": spec.name,
            "namespace": account.namespace,
            "labels": {**N.user_labels(spec.labels), N.MANAGED_BY: N.ASGARD},
            "annotations": annotations,
        },
        "spec": {
            "schedule": spec.schedule.value,
            "timeZone": spec.schedule.tz,
            "suspend": not spec.enabled,
            "concurrencyPolicy": "Allow" if spec.concurrent else "Forbid",
            "jobTemplate": {"spec": job_spec},
        },
    }


def cronjob_to_model(obj: Json, *, cluster: str) -> ScheduledJob:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    annotations = meta.get("annotations") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    container = (((job_spec.get("template") or {}).get("spec") or {}).get("containers") or [{}])[0]
    limits = (container.get("resources") or {}).get("limits") or {}
    timeout = annotations.get(N.TIMEOUT_ANNOTATION) or job_spec.get("activeDeadlineSeconds")
    return ScheduledJob(
        cluster=cluster,
        id=meta["name"],
        name=meta["name"],
        image=container.get("image", ""),
        command=container.get("command") or None,
        args=container.get("args") or None,
        env={
            e["name"]: str(e.get("value", "")) for e in container.get("env") or [] if "value" in e
        },
        resources=ResourceLimits(
            cpus=cpu_cores(limits.get("cpu")) or None, mem=mebibytes(limits.get("memory")) or None
        ),
        timeout_s=float(timeout) if timeout else None,
        retries=int(annotations.get(N.RETRIES_ANNOTATION) or job_spec.get("backoffLimit") or 0),
        labels=N.user_labels(meta.get("labels")),
        schedule=Schedule(value=spec.get("schedule", ""), tz=spec.get("timeZone") or "UTC"),
        enabled=not spec.get("suspend", False),
        concurrent=spec.get("concurrencyPolicy", "Allow") == "Allow",
        description=annotations.get(DESCRIPTION, ""),
    )


class KubernetesScheduledJobsBackend(ScheduledJobsBackend):
    def __init__(self, client: KubeClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client

    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        found, _ = await self.client.list_all(
            cronjobs_path(account.namespace), what="list cronjobs"
        )
        return [cronjob_to_model(c, cluster=self.cluster) for c in found]

    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        try:
            found = await self.client.request(
                "GET", cronjobs_path(account.namespace, job_id), what=f"scheduled job {job_id}"
            )
        except NotFound:
            raise NotFound(f"scheduled job '{job_id}' not found", cluster=self.cluster) from None
        return cronjob_to_model(found, cluster=self.cluster)

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        try:
            created = await self.client.request(
                "POST",
                cronjobs_path(account.namespace),
                what=f"create scheduled job {spec.name}",
                body=cronjob(account, spec),
            )
        except Conflict:
            raise schedule_taken(spec.name, self.cluster) from None
        return cronjob_to_model(created, cluster=self.cluster)

    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        await self.get_scheduled_job(account, job_id)
        wanted = cronjob(account, spec.model_copy(update={"name": job_id}))
        current = await self.client.request(
            "GET", cronjobs_path(account.namespace, job_id), what="scheduled job"
        )
        stale = {
            k: None
            for k in N.user_labels((current.get("metadata") or {}).get("labels"))
            if k not in spec.labels
        }
        wanted["metadata"]["labels"] = {**stale, **wanted["metadata"]["labels"]}
        updated = await self.client.request(
            "PATCH",
            cronjobs_path(account.namespace, job_id),
            what=f"update scheduled job {job_id}",
            body={
                "metadata": {
                    "labels": wanted["metadata"]["labels"],
                    "annotations": wanted["metadata"]["annotations"],
                },
                "spec": wanted["spec"],
            },
            content_type=MERGE_PATCH,
        )
        return cronjob_to_model(updated, cluster=self.cluster)

    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        await self.get_scheduled_job(account, job_id)
        await self.client.request(
            "DELETE",
            cronjobs_path(account.namespace, job_id),
            what=f"delete scheduled job {job_id}",
            params={"propagationPolicy": "Background"},
        )
