"""One-time jobs as ``batch/v1`` Jobs, with their input and output going through Asgard.

Seed 004's task runner, without a cloud bucket. A job that has an input zip
gets an init container that fetches it from Asgard (``GET .../input`` with a
token scoped to that one job, kept in a Secret) and unpacks it into
``/input``. The job writes ``/output`` to a volume of its own; when the job
has ended, a *collector* Job mounts that volume and sends it back to Asgard
(``POST .../output``, same kind of token). Once the output is in, the
collector, the volume and the Secret are removed. This needs ``public_url``:
Asgard's address as the cluster's pods can reach it. Without it jobs still run,
but take no input and leave no output.

Jobs run as nobody (uid 65534), without privilege escalation, with every
capability dropped and no service account token.
"""

from __future__ import annotations

import asyncio
import contextlib
import math

import structlog

from asgard.artifacts import ArtifactStore
from asgard.backends.base import JobsBackend, LogStream, WorkspaceMount
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import Json, KubeClient, KubernetesClusterConfig
from asgard.backends.kubernetes.converters import (
    container_resources,
    env_list,
    job_exit,
    parse_time,
)
from asgard.backends.kubernetes.quantities import cpu_cores, mebibytes
from asgard.errors import AsgardError, Conflict, InvalidValue, NotFound
from asgard.job_tokens import JobGrant, JobTokens
from asgard.models import Account, Job, JobSpec, JobStatus, ResourceLimits, WorkflowVolume
from asgard.models.job import new_job_id
from asgard.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

KIND = "kubernetes"
MERGE_PATCH = "application/merge-patch+json"
NOBODY = 65534
TOKEN_TTL_S = 24 * 3600
COLLECT_EVERY_S = 2.0
ROLE_COLLECTOR = "collector"

FETCH_INPUT = (
    'wget -q -O /tmp/input.zip --header "Authorization: Bearer $ASGARD_TOKEN" "$ASGARD_URL"'
    " && unzip -o -q /tmp/input.zip -d /input && rm -f /tmp/input.zip"
)
SEND_OUTPUT = (
    "tar -C /output -cf /tmp/output.tar . && wget -q -O /dev/null"
    ' --header "Authorization: Bearer $ASGARD_TOKEN" --header "Content-Type: application/x-tar"'
    ' --post-file /tmp/output.tar "$ASGARD_URL"'
)


def jobs_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    return f"{base}/{name}" if name else base


def owned_by(job: Json) -> list[Json]:
    meta = job["metadata"]
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "controller": False,
        }
    ]


def job_status(job: Json, pods: list[Json]) -> JobStatus:
    """estela's counts from the Job's status; the state and the reason from its conditions
    (DeadlineExceeded, BackoffLimitExceeded) and its pods (exit code, OOM)."""
    status = job.get("status") or {}
    active, succeeded, failed = (int(status.get(k) or 0) for k in ("active", "succeeded", "failed"))
    conditions = {
        c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"
    }
    code, oom = job_exit(pods)
    started = parse_time(status.get("startTime"))
    annotations = (job.get("metadata") or {}).get("annotations") or {}
    if "Complete" in conditions or (succeeded and not active and "Failed" not in conditions):
        return JobStatus(
            state="succeeded",
            active=active,
            succeeded=succeeded,
            failed=failed,
            exit_code=code if code is not None else 0,
            started_at=started,
            finished_at=parse_time(status.get("completionTime"))
            or parse_time(conditions.get("Complete", {}).get("lastTransitionTime")),
            message="exited with code 0" + (f" after {failed} failed attempt(s)" if failed else ""),
        )
    if "Failed" in conditions:
        condition = conditions["Failed"]
        reason = condition.get("reason")
        if reason == "DeadlineExceeded":
            message = f"killed after its timeout of {annotations.get(N.TIMEOUT_ANNOTATION, '?')} s"
        elif oom:
            message = "killed: out of memory"
        elif reason == "BackoffLimitExceeded":
            message = (
                f"exited with code {code} after {max(failed - 1, 0)} retries"
                if code is not None
                else "failed every attempt"
            )
        else:
            message = condition.get("message") or reason or "failed"
        return JobStatus(
            state="failed",
            active=active,
            succeeded=succeeded,
            failed=max(failed, 1),
            exit_code=code,
            started_at=started,
            finished_at=parse_time(condition.get("lastTransitionTime")),
            message=message,
        )
    if active:
        return JobStatus(
            state="running", active=active, failed=failed, started_at=started, message="running"
        )
    return JobStatus(state="pending", failed=failed, message="waiting for the cluster to start it")


def job_to_model(job: Json, pods: list[Json], *, cluster: str) -> Job:
    meta = job.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    pod_spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    main = (
        next((c for c in pod_spec.get("containers") or [] if c.get("name") == "job"), None)
        or ((pod_spec.get("containers") or [{}])[0])
    )
    limits = (main.get("resources") or {}).get("limits") or {}
    timeout = annotations.get(N.TIMEOUT_ANNOTATION)
    return Job(
        cluster=cluster,
        id=meta["name"],
        name=labels.get(N.JOB_NAME_LABEL, meta["name"]),
        image=main.get("image", ""),
        command=main.get("command") or None,
        args=main.get("args") or None,
        env={e["name"]: str(e.get("value", "")) for e in main.get("env") or [] if "value" in e},
        resources=ResourceLimits(
            cpus=cpu_cores(limits.get("cpu")) or None, mem=mebibytes(limits.get("memory")) or None
        ),
        timeout_s=float(timeout) if timeout else None,
        retries=int(
            annotations.get(N.RETRIES_ANNOTATION)
            or (job.get("spec") or {}).get("backoffLimit")
            or 0
        ),
        labels=N.user_labels(labels),
        status=job_status(job, pods),
        created_at=parse_time(meta.get("creationTimestamp")),
    )


class KubernetesJobsBackend(JobsBackend):
    def __init__(
        self,
        client: KubeClient,
        config: KubernetesClusterConfig,
        artifacts: ArtifactStore,
        tokens: JobTokens,
        public_url: str | None,
    ) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.config = config
        self.artifacts = artifacts
        self.tokens = tokens
        self.public_url = public_url.rstrip("/") if public_url else None
        self._collector: asyncio.Task[None] | None = None

    def _url(self, job_id: str, what: str) -> str:
        assert self.public_url is not None
        return f"{self.public_url}/clusters/{self.cluster}/jobs/{job_id}/{what}"

    def _token_secret(self, namespace: str, job_id: str, name: str) -> Json:
        token = self.tokens.issue(JobGrant(self.cluster, namespace, job_id), TOKEN_TTL_S)
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {N.JOB_LABEL: job_id, N.MANAGED_BY: N.ASGARD},
            },
            "type": "Opaque",
            "stringData": {"token": token},
        }

    def _manifest(
        self,
        account: Account,
        spec: JobSpec,
        job_id: str,
        with_input: bool,
        mount: WorkspaceMount | None = None,
    ) -> Json:
        token_env = {
            "name": "ASGARD_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": f"{job_id}-io", "key": "token"}},
        }
        locked_down = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
        main: Json = {
            "name": "job",
            "image": spec.image,
            "env": env_list(spec.env),
            "resources": container_resources(spec.resources),
            "securityContext": locked_down,
            "volumeMounts": [
                {"name": "input", "mountPath": "/input"},
                {"name": "output", "mountPath": "/output"},
            ],
        }
        if spec.command:
            main["command"] = spec.command
        if spec.args:
            main["args"] = spec.args
        init: list[Json] = []
        if with_input:
            init.append(
                {
                    "name": "fetch-input",
                    "image": self.config.helper_image,
                    "command": ["sh", "-c", FETCH_INPUT],
                    "env": [{"name": "ASGARD_URL", "value": self._url(job_id, "input")}, token_env],
                    "securityContext": locked_down,
                    "volumeMounts": [{"name": "input", "mountPath": "/input"}],
                }
            )
        volumes: list[Json] = [
            {"name": "input", "emptyDir": {}},
            {"name": "output", "persistentVolumeClaim": {"claimName": f"{job_id}-output"}}
            if self.public_url
            else {"name": "output", "emptyDir": {}},
        ]
        labels = {
            **N.user_labels(spec.labels),
            N.JOB_LABEL: job_id,
            N.JOB_NAME_LABEL: spec.name,
            N.MANAGED_BY: N.ASGARD,
        }
        annotations = {N.RETRIES_ANNOTATION: str(spec.retries)}
        if mount is not None:
            volumes, main["volumeMounts"] = self._workspace_volumes(mount, init)
            annotations[N.WORKSPACE_ANNOTATION] = N.workspace_claim(mount.workspace)
            annotations[N.OUTPUT_DIR_ANNOTATION] = mount.output_dir
        job_spec: Json = {
            "backoffLimit": spec.retries,
            "ttlSecondsAfterFinished": int(self.config.job_retention_s),
            "template": {
                "metadata": {"labels": {N.JOB_LABEL: job_id, N.MANAGED_BY: N.ASGARD}},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": NOBODY,
                        "runAsGroup": NOBODY,
                        "fsGroup": NOBODY,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": init,
                    "containers": [main],
                    "volumes": volumes,
                },
            },
        }
        if spec.timeout_s is not None:
            job_spec["activeDeadlineSeconds"] = math.ceil(spec.timeout_s)
            annotations[N.TIMEOUT_ANNOTATION] = f"{spec.timeout_s:g}"
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": job_id,
                "namespace": account.namespace,
                "labels": labels,
                "annotations": annotations,
            },
            "spec": job_spec,
        }

    def _workspace_volumes(
        self, mount: WorkspaceMount, init: list[Json]
    ) -> tuple[list[Json], list[Json]]:
        """A workflow stage: ``/input`` and ``/output`` are folders (``subPath``) of the
        workflow's claim. The kubelet would make missing folders as root, where a job
        running as nobody cannot write; an init container makes them first, as nobody,
        in the volume the pod's ``fsGroup`` lets it write to."""
        folders = [f for f in (mount.input_dir, mount.output_dir) if f is not None]
        init.insert(
            0,
            {
                "name": "prepare-folders",
                "image": self.config.helper_image,
                "command": ["mkdir", "-p", *(f"/workspace/{f}" for f in folders)],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
            },
        )
        volumes: list[Json] = [
            {
                "name": "workspace",
                "persistentVolumeClaim": {"claimName": N.workspace_claim(mount.workspace)},
            }
        ]
        mounts: list[Json] = [
            {"name": "workspace", "mountPath": "/output", "subPath": mount.output_dir}
        ]
        if mount.input_dir is None:
            volumes.append({"name": "input", "emptyDir": {}})
            mounts.insert(0, {"name": "input", "mountPath": "/input"})
        else:
            mounts.insert(
                0,
                {
                    "name": "workspace",
                    "mountPath": "/input",
                    "subPath": mount.input_dir,
                    "readOnly": True,
                },
            )
        return volumes, mounts

    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        claim: Json = {
            "accessModes": [volume.access_mode],
            "resources": {"requests": {"storage": volume.size}},
        }
        storage_class = volume.storage_class or self.config.storage_class
        if storage_class:
            claim["storageClassName"] = storage_class
        with contextlib.suppress(Conflict):  # made at an earlier stage, or before a restart
            await self.client.request(
                "POST",
                f"/api/v1/namespaces/{account.namespace}/persistentvolumeclaims",
                what="create workflow volume",
                body={
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {
                        "name": N.workspace_claim(name),
                        "namespace": account.namespace,
                        "labels": {N.WORKFLOW_LABEL: name, N.MANAGED_BY: N.ASGARD},
                    },
                    "spec": claim,
                },
            )

    async def delete_workspace(self, account: Account, name: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.request(
                "DELETE",
                f"/api/v1/namespaces/{account.namespace}/persistentvolumeclaims/"
                f"{N.workspace_claim(name)}",
                what="delete workflow volume",
            )

    def _volume(self, namespace: str, job_id: str) -> Json:
        claim: Json = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": self.config.output_size}},
        }
        if self.config.storage_class:
            claim["storageClassName"] = self.config.storage_class
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": f"{job_id}-output",
                "namespace": namespace,
                "labels": {N.JOB_LABEL: job_id, N.MANAGED_BY: N.ASGARD},
            },
            "spec": claim,
        }

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        if input_zip is not None and self.public_url is None:
            raise InvalidValue(
                "jobs on Kubernetes fetch their input from Asgard: set ASGARD_PUBLIC_URL to an "
                "address the cluster's pods can reach",
                field="input",
                cluster=self.cluster,
            )
        namespace = account.namespace
        job_id = new_job_id(spec.name)
        made: list[str] = []
        try:
            if self.public_url:
                await self.client.request(
                    "POST",
                    f"/api/v1/namespaces/{namespace}/secrets",
                    what="create job token",
                    body=self._token_secret(namespace, job_id, f"{job_id}-io"),
                )
                made.append(f"/api/v1/namespaces/{namespace}/secrets/{job_id}-io")
            if self.public_url and mount is None:  # a stage writes to the workflow's volume
                await self.client.request(
                    "POST",
                    f"/api/v1/namespaces/{namespace}/persistentvolumeclaims",
                    what="create job output volume",
                    body=self._volume(namespace, job_id),
                )
                made.append(
                    f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{job_id}-output"
                )
            if input_zip is not None:
                await self.artifacts.save_input(self.cluster, namespace, job_id, input_zip)
            created = await self.client.request(
                "POST",
                jobs_path(namespace),
                what=f"create job {job_id}",
                body=self._manifest(account, spec, job_id, input_zip is not None, mount),
            )
        except BaseException:
            for path in made:
                with contextlib.suppress(AsgardError):
                    await self.client.request("DELETE", path, what="clean up")
            await self.artifacts.delete(self.cluster, namespace, job_id)
            raise
        for path in made:  # go when the Job goes (the TTL controller removes it after retention)
            await self.client.request(
                "PATCH",
                path,
                what="own job files",
                body={"metadata": {"ownerReferences": owned_by(created)}},
                content_type=MERGE_PATCH,
            )
        return job_to_model(created, [], cluster=self.cluster)

    async def _job(self, namespace: str, job_id: str) -> Json:
        try:
            found = await self.client.request(
                "GET", jobs_path(namespace, job_id), what=f"job {job_id}"
            )
        except NotFound:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster) from None
        if ((found.get("metadata") or {}).get("labels") or {}).get(N.ROLE_LABEL) == ROLE_COLLECTOR:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster)
        return found

    async def _pods(self, namespace: str, job_id: str) -> list[Json]:
        pods, _ = await self.client.list_all(
            f"/api/v1/namespaces/{namespace}/pods",
            what="list job pods",
            params={"labelSelector": f"job-name={job_id}"},
        )
        return pods

    async def get_job(self, account: Account, job_id: str) -> Job:
        job = await self._job(account.namespace, job_id)
        return job_to_model(job, await self._pods(account.namespace, job_id), cluster=self.cluster)

    async def list_jobs(self, account: Account) -> list[Job]:
        jobs, _ = await self.client.list_all(
            jobs_path(account.namespace),
            what="list jobs",
            params={"labelSelector": f"{N.ROLE_LABEL}!={ROLE_COLLECTOR}"},
        )
        pods, _ = await self.client.list_all(
            f"/api/v1/namespaces/{account.namespace}/pods",
            what="list job pods",
            params={"labelSelector": "job-name"},
        )
        by_job: dict[str, list[Json]] = {}
        for pod in pods:
            by_job.setdefault(
                ((pod.get("metadata") or {}).get("labels") or {}).get("job-name", ""), []
            ).append(pod)
        return [
            job_to_model(j, by_job.get(j["metadata"]["name"], []), cluster=self.cluster)
            for j in jobs
        ]

    async def delete_job(self, account: Account, job_id: str) -> None:
        namespace = account.namespace
        await self._job(namespace, job_id)
        for path in (
            jobs_path(namespace, job_id),
            jobs_path(namespace, f"{job_id}-collect"),
            f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{job_id}-output",
            f"/api/v1/namespaces/{namespace}/secrets/{job_id}-io",
            f"/api/v1/namespaces/{namespace}/secrets/{job_id}-collect",
        ):
            # Everything here is owned by the Job, so the cluster's garbage collector
            # would remove it too, but not at once and not where none runs.
            with contextlib.suppress(NotFound):
                await self.client.request(
                    "DELETE",
                    path,
                    what=f"delete job {job_id}",
                    params={"propagationPolicy": "Background"},
                )
        await self.artifacts.delete(self.cluster, namespace, job_id)

    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        await self._job(account.namespace, job_id)
        pods = sorted(
            await self._pods(account.namespace, job_id),
            key=lambda p: p["metadata"].get("creationTimestamp") or "",
        )
        if not pods:
            return _nothing()
        return self._log(account.namespace, pods[-1]["metadata"]["name"], follow)

    async def _log(self, namespace: str, pod: str, follow: bool) -> LogStream:
        params = {"container": "job", "follow": "true" if follow else "false"}
        async with self.client.stream(
            f"/api/v1/namespaces/{namespace}/pods/{pod}/log", what=f"logs of {pod}", params=params
        ) as response:
            async for chunk in response.content.iter_any():
                yield chunk

    async def job_output(self, account: Account, job_id: str) -> bytes:
        job = await self.get_job(account, job_id)
        if not job.status.finished:
            raise NotFound(f"job '{job_id}' has not finished: no output yet", cluster=self.cluster)
        stored = await self.artifacts.read_output(self.cluster, account.namespace, job_id)
        if stored is not None:
            return stored
        if self.public_url is None:
            raise NotFound(
                f"job '{job_id}' left no output Asgard could collect: ASGARD_PUBLIC_URL is not set",
                cluster=self.cluster,
            )
        raise NotFound(
            f"the output of job '{job_id}' is being collected; try again shortly",
            cluster=self.cluster,
        )

    # collecting outputs

    async def start(self) -> None:
        if self.public_url and self._collector is None:
            self._collector = asyncio.create_task(
                self._collect_forever(), name=f"collect-{self.cluster}"
            )

    async def close(self) -> None:
        await cancel_and_wait(self._collector)
        self._collector = None

    async def _collect_forever(self) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(cluster=self.cluster)
        while True:
            try:
                await self.collect()
            except AsgardError as exc:
                log.warning("collecting job outputs failed", error=exc.msg)
            await asyncio.sleep(COLLECT_EVERY_S)

    async def collect(self) -> None:
        """One round: start collectors for ended jobs, tidy up after those done."""
        jobs, _ = await self.client.list_all(
            "/apis/batch/v1/jobs",
            what="list jobs",
            params={"labelSelector": f"{N.MANAGED_BY}={N.ASGARD},{N.JOB_LABEL}"},
        )
        collectors = {
            j["metadata"]["labels"][N.JOB_LABEL]: j
            for j in jobs
            if (j["metadata"].get("labels") or {}).get(N.ROLE_LABEL) == ROLE_COLLECTOR
        }
        main = {
            (j["metadata"]["namespace"], j["metadata"]["name"])
            for j in jobs
            if (j["metadata"].get("labels") or {}).get(N.ROLE_LABEL) != ROLE_COLLECTOR
        }
        for job_id, collector in collectors.items():
            namespace = collector["metadata"]["namespace"]
            if (namespace, job_id) not in main:  # its job was deleted: nothing to collect
                await self._tidy(namespace, job_id)
        for job in jobs:
            labels = job["metadata"].get("labels") or {}
            if labels.get(N.ROLE_LABEL) == ROLE_COLLECTOR:
                continue
            namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
            if not job_status(job, []).finished:
                continue
            if await self.artifacts.has_output(self.cluster, namespace, job_id):
                if job_id in collectors:
                    await self._tidy(namespace, job_id)
                continue
            if job_id not in collectors:
                await self._start_collector(job)

    async def _start_collector(self, job: Json) -> None:
        namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
        annotations = job["metadata"].get("annotations") or {}
        output_mount: Json = {"name": "output", "mountPath": "/output", "readOnly": True}
        claim = annotations.get(N.WORKSPACE_ANNOTATION)
        if claim:  # a workflow stage wrote to a folder of its workflow's volume
            output_mount["subPath"] = annotations.get(N.OUTPUT_DIR_ANNOTATION, "")
        else:
            claim = f"{job_id}-output"
        secret = f"{job_id}-collect"
        with contextlib.suppress(Conflict):
            await self.client.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/secrets",
                what="create collector token",
                body={
                    **self._token_secret(namespace, job_id, secret),
                    "metadata": {
                        "name": secret,
                        "namespace": namespace,
                        "ownerReferences": owned_by(job),
                        "labels": {N.JOB_LABEL: job_id, N.MANAGED_BY: N.ASGARD},
                    },
                },
            )
        manifest: Json = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": f"{job_id}-collect",
                "namespace": namespace,
                "labels": {
                    N.JOB_LABEL: job_id,
                    N.ROLE_LABEL: ROLE_COLLECTOR,
                    N.MANAGED_BY: N.ASGARD,
                },
                "ownerReferences": owned_by(job),
            },
            "spec": {
                "backoffLimit": 3,
                "template": {
                    "metadata": {"labels": {N.JOB_LABEL: job_id, N.ROLE_LABEL: ROLE_COLLECTOR}},
                    "spec": {
                        "restartPolicy": "Never",
                        "automountServiceAccountToken": False,
                        "securityContext": {
                            "runAsUser": NOBODY,
                            "runAsGroup": NOBODY,
                            "fsGroup": NOBODY,
                        },
                        "containers": [
                            {
                                "name": "collect",
                                "image": self.config.helper_image,
                                "command": ["sh", "-c", SEND_OUTPUT],
                                "env": [
                                    {"name": "ASGARD_URL", "value": self._url(job_id, "output")},
                                    {
                                        "name": "ASGARD_TOKEN",
                                        "valueFrom": {
                                            "secretKeyRef": {"name": secret, "key": "token"}
                                        },
                                    },
                                ],
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "volumeMounts": [output_mount],
                            }
                        ],
                        "volumes": [
                            {"name": "output", "persistentVolumeClaim": {"claimName": claim}}
                        ],
                    },
                },
            },
        }
        with contextlib.suppress(Conflict):
            await self.client.request(
                "POST", jobs_path(namespace), what="create collector", body=manifest
            )
            log.info("collecting the output of a job", job=job_id)

    async def _tidy(self, namespace: str, job_id: str) -> None:
        for path in (
            jobs_path(namespace, f"{job_id}-collect"),
            f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{job_id}-output",
            f"/api/v1/namespaces/{namespace}/secrets/{job_id}-collect",
            f"/api/v1/namespaces/{namespace}/secrets/{job_id}-io",
        ):
            with contextlib.suppress(NotFound):
                await self.client.request(
                    "DELETE",
                    path,
                    what="tidy up a collected job",
                    params={"propagationPolicy": "Background"},
                )


async def _nothing() -> LogStream:
    return
    yield b""  # an empty async generator
