"""One-time jobs as ``batch/v1`` Jobs, with their input and output going through Asgard.

A job that has an input zip gets an init container that fetches it from Asgard
(``GET .../input`` with a token scoped to that one job, kept in a Secret) and
unpacks it into ``/input``. The job writes ``/output`` to a volume of its own; when
the job has ended, a collector Job sends it back to Asgard (``collector.py``). This
needs ``public_url``: Asgard's address as the cluster's pods can reach it. Without it
jobs still run, but take no input and leave no output. The objects themselves are
built in ``job_manifests.py``.
"""

from __future__ import annotations

import contextlib

from asgard.backends.common import Json, Segments
from asgard.backends.contract import JobsBackend, LogStream, WorkspaceMount
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import MERGE_PATCH, KubeClient
from asgard.backends.kubernetes.collector import OutputCollector
from asgard.backends.kubernetes.config import KIND, KubernetesClusterConfig
from asgard.backends.kubernetes.job_manifests import (
    JobPlan,
    claim,
    claims_path,
    collector_name,
    io_secret,
    job_manifest,
    jobs_path,
    output_claim,
    owned_by,
    secrets_path,
    token_secret,
)
from asgard.backends.kubernetes.job_status import ROLE_COLLECTOR, is_collector, job_to_model
from asgard.backends.kubernetes.records import PodRecord, pod_record
from asgard.backends.kubernetes.views import StoreView
from asgard.backends.registry import BackendContext
from asgard.errors import AsgardError, Conflict, InvalidValue, NotFound
from asgard.job_tokens import JobFile, job_file_path
from asgard.models import Account, Job, JobSpec, WorkflowVolume
from asgard.models.job import new_job_id


class KubernetesJobsBackend(JobsBackend):
    def __init__(
        self,
        client: KubeClient,
        config: KubernetesClusterConfig,
        context: BackendContext,
        view: StoreView,
    ) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.view = view
        self.config = config
        self.artifacts = context.artifacts
        public_url = context.public_url
        self.public_url = public_url.rstrip("/") if public_url else None
        self.collector = OutputCollector(
            client,
            context,
            helper_image=config.helper_image,
            output_url=lambda job_id: self._url(job_id, "output"),
        )

    def _url(self, job_id: str, what: JobFile) -> str:
        assert self.public_url is not None
        return self.public_url + job_file_path(self.cluster, job_id, what)

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
        namespace, job_id = account.namespace, new_job_id(spec.name)
        plan = JobPlan(
            job_id=job_id,
            namespace=namespace,
            helper_image=self.config.helper_image,
            retention_s=self.config.job_retention_s,
            input_url=self._url(job_id, "input") if input_zip is not None else None,
            keeps_output=self.public_url is not None and mount is None,
            mount=mount,
            owner=account.owner,
        )
        made: list[Segments] = []
        try:
            made = await self._make_files(namespace, job_id, plan)
            if input_zip is not None:
                await self.artifacts.save_input(self.cluster, namespace, job_id, input_zip)
            created = await self.client.request(
                "POST",
                jobs_path(namespace),
                what=f"create job {job_id}",
                body=job_manifest(spec, plan),
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

    async def _make_files(self, namespace: str, job_id: str, plan: JobPlan) -> list[Segments]:
        """The job's token and output volume, before the job; the paths of what was made."""
        made: list[Segments] = []
        if self.public_url is None:
            return made
        token = self.collector.token(namespace, job_id)
        await self.client.request(
            "POST",
            secrets_path(namespace),
            what="create job token",
            body=token_secret(namespace, job_id, io_secret(job_id), token),
        )
        made.append(secrets_path(namespace, io_secret(job_id)))
        if plan.keeps_output:  # a workflow stage writes to the workflow's volume instead
            volume = claim(
                namespace,
                output_claim(job_id),
                {N.JOB_LABEL: job_id},
                size=self.config.output_size,
                storage_class=self.config.storage_class,
            )
            await self.client.request(
                "POST", claims_path(namespace), what="create job output volume", body=volume
            )
            made.append(claims_path(namespace, output_claim(job_id)))
        return made

    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        body = claim(
            account.namespace,
            N.workspace_claim(name),
            {N.WORKFLOW_LABEL: name},
            size=volume.size,
            storage_class=volume.storage_class or self.config.storage_class,
            access_mode=volume.access_mode,
        )
        with contextlib.suppress(Conflict):  # made at an earlier stage, or before a restart
            await self.client.request(
                "POST", claims_path(account.namespace), what="create workflow volume", body=body
            )

    async def delete_workspace(self, account: Account, name: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.request(
                "DELETE",
                claims_path(account.namespace, N.workspace_claim(name)),
                what="delete workflow volume",
            )

    async def _job(self, namespace: str, job_id: str) -> Json:
        try:
            found = await self.client.request(
                "GET", jobs_path(namespace, job_id), what=f"job {job_id}"
            )
        except NotFound:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster) from None
        if is_collector(found):
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster)
        return found

    async def _pods(self, namespace: str, job_id: str) -> list[Json]:
        pods, _ = await self.client.list_all(
            ("api", "v1", "namespaces", namespace, "pods"),
            what="list job pods",
            params={"labelSelector": f"job-name={job_id}"},
        )
        return pods

    async def get_job(self, account: Account, job_id: str) -> Job:
        job = await self._job(account.namespace, job_id)
        pods = [pod_record(p) for p in await self._pods(account.namespace, job_id)]
        return job_to_model(job, pods, cluster=self.cluster)

    async def list_jobs(self, account: Account) -> list[Job]:
        """From the store while it is current, else from the API server."""
        if await self.view.store.settled():
            return self.view.jobs(account)
        jobs, _ = await self.client.list_all(
            jobs_path(account.namespace),
            what="list jobs",
            params={"labelSelector": f"{N.ROLE_LABEL}!={ROLE_COLLECTOR}"},
        )
        pods, _ = await self.client.list_all(
            ("api", "v1", "namespaces", account.namespace, "pods"),
            what="list job pods",
            params={"labelSelector": "job-name"},
        )
        by_job: dict[str, list[PodRecord]] = {}
        for pod in map(pod_record, pods):
            by_job.setdefault(pod.job or "", []).append(pod)
        return [
            job_to_model(j, by_job.get(j["metadata"]["name"], []), cluster=self.cluster)
            for j in jobs
        ]

    async def delete_job(self, account: Account, job_id: str) -> None:
        namespace = account.namespace
        await self._job(namespace, job_id)
        for path in (
            jobs_path(namespace, job_id),
            jobs_path(namespace, collector_name(job_id)),
            claims_path(namespace, output_claim(job_id)),
            secrets_path(namespace, io_secret(job_id)),
            secrets_path(namespace, collector_name(job_id)),
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
            ("api", "v1", "namespaces", namespace, "pods", pod, "log"),
            what=f"logs of {pod}",
            params=params,
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
        refused = await self.artifacts.output_refused(self.cluster, account.namespace, job_id)
        if refused is not None:
            raise NotFound(f"job '{job_id}' has no output: {refused}", cluster=self.cluster)
        if self.public_url is None:
            raise NotFound(
                f"job '{job_id}' left no output Asgard could collect: ASGARD_PUBLIC_URL is not set",
                cluster=self.cluster,
            )
        raise NotFound(
            f"the output of job '{job_id}' is being collected; try again shortly",
            cluster=self.cluster,
        )

    async def start(self) -> None:
        if self.public_url:
            await self.collector.start()

    async def close(self) -> None:
        await self.collector.close()


async def _nothing() -> LogStream:
    return
    yield b""  # an empty async generator
