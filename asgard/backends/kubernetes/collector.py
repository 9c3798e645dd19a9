"""Bringing the ``/output`` of finished jobs back to Asgard, every ``COLLECT_EVERY_S``, in
one process of the deployment (by lease: two would start two collectors for one job).

A job that has ended and whose output Asgard does not hold yet gets a collector Job,
which mounts the job's output volume and sends it to Asgard with a token scoped to
that one job (kept in a Secret owned by the job). Once the output is in, the
collector, the volume and the Secrets are removed; a collector whose job was
deleted meanwhile is tidied up too, so nothing is left where no garbage collector
runs. A collector that failed every try of its pod (Asgard was away the whole time,
say) is replaced by a new one, up to ``COLLECT_ATTEMPTS`` collectors per job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import structlog

from asgard.backends.common import Json
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import MERGE_PATCH, KubeClient
from asgard.backends.kubernetes.job_manifests import (
    claims_path,
    collector_manifest,
    collector_name,
    io_secret,
    jobs_path,
    output_claim,
    owned_by,
    secrets_path,
    token_secret,
)
from asgard.backends.kubernetes.job_status import is_collector, job_status
from asgard.backends.registry import BackendContext
from asgard.errors import Conflict, Forbidden, InvalidValue, NotFound
from asgard.job_tokens import JobGrant

log = structlog.get_logger(__name__)

__all__ = ["COLLECT_EVERY_S", "OutputCollector", "OutputUrl"]

COLLECT_EVERY_S = 2.0
COLLECT_ATTEMPTS = 3
TOKEN_TTL_S = 24 * 3600

REFUSALS = (Conflict, Forbidden, InvalidValue, NotFound)
"""What the cluster answers about one job's objects: that job's trouble, not the round's."""

OutputUrl = Callable[[str], str]
"""The URL a job's output is sent to, from the job's id."""


class OutputCollector:
    def __init__(
        self,
        client: KubeClient,
        context: BackendContext,
        *,
        helper_image: str,
        output_url: OutputUrl,
    ) -> None:
        self.client = client
        self.cluster = client.cluster
        self.artifacts = context.artifacts
        self.tokens = context.job_tokens
        self.helper_image = helper_image
        self.output_url = output_url
        self.loop = context.leased(
            "kubernetes-output-collector", self.cluster, self.collect, every_s=COLLECT_EVERY_S
        )

    def token(self, namespace: str, job_id: str) -> str:
        return self.tokens.issue(JobGrant(self.cluster, namespace, job_id), TOKEN_TTL_S)

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.loop.close()

    async def collect(self) -> None:
        """One round: start collectors for ended jobs, tidy up after those done."""
        jobs, _ = await self.client.list_all(
            ("apis", "batch", "v1", "jobs"),
            what="list jobs",
            params={"labelSelector": f"{N.MANAGED_BY}={N.ASGARD},{N.JOB_LABEL}"},
        )
        collectors = {j["metadata"]["labels"][N.JOB_LABEL]: j for j in jobs if is_collector(j)}
        main = {
            (j["metadata"]["namespace"], j["metadata"]["name"]): j
            for j in jobs
            if not is_collector(j)
        }
        for job_id, collector in collectors.items():
            namespace = collector["metadata"]["namespace"]
            if (namespace, job_id) not in main:  # its job was deleted: nothing to collect
                await self.tidy(namespace, job_id)
        for (_, job_id), job in main.items():
            try:
                await self._collect_one(job, collectors.get(job_id))
            except REFUSALS as exc:
                # One job the cluster refuses something for must not hold the others'
                # output back; a cluster that does not answer fails the round (and the
                # loop backs off).
                log.warning("a job's output could not be collected", job=job_id, error=exc.msg)

    async def _collect_one(self, job: Json, sender: Json | None) -> None:
        """Start the ended job's collector, replace one that failed, or tidy up once its
        output is settled."""
        namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
        if not job_status(job, []).finished:
            return
        if await self.artifacts.output_settled(self.cluster, namespace, job_id):
            if sender is not None:
                await self._mark_refused(job)
                await self.tidy(namespace, job_id)
            return
        if sender is None:
            await self._start_collector(job)
        elif job_status(sender, []).state == "failed":
            await self._try_again(job, sender)

    async def _mark_refused(self, job: Json) -> None:
        """A job whose output was refused says so on the Job itself, once."""
        meta = job["metadata"]
        namespace, job_id = meta["namespace"], meta["name"]
        reason = await self.artifacts.output_refused(self.cluster, namespace, job_id)
        if reason is None or N.OUTPUT_REFUSED_ANNOTATION in (meta.get("annotations") or {}):
            return
        with contextlib.suppress(NotFound):  # deleted meanwhile
            await self.client.request(
                "PATCH",
                jobs_path(namespace, job_id),
                what="mark a job's output refused",
                body={"metadata": {"annotations": {N.OUTPUT_REFUSED_ANNOTATION: reason}}},
                content_type=MERGE_PATCH,
            )
        log.warning("a job's output was refused", job=job_id, reason=reason)

    async def _try_again(self, job: Json, collector: Json) -> None:
        """The collector gave up without sending anything: another, while tries are left."""
        namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
        annotations = collector["metadata"].get("annotations") or {}
        attempt = int(annotations.get(N.COLLECT_ATTEMPT_ANNOTATION, "1"))
        if attempt >= COLLECT_ATTEMPTS:
            return  # its output stays unavailable; the failed collector says why
        with contextlib.suppress(NotFound):
            await self.client.request(
                "DELETE",
                jobs_path(namespace, collector_name(job_id)),
                what="replace a failed collector",
                params={"propagationPolicy": "Background"},
            )
        log.warning("a job's collector failed; starting another", job=job_id, attempt=attempt + 1)
        await self._start_collector(job, attempt + 1)

    async def _start_collector(self, job: Json, attempt: int = 1) -> None:
        namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
        secret = token_secret(
            namespace, job_id, collector_name(job_id), self.token(namespace, job_id)
        )
        secret["metadata"]["ownerReferences"] = owned_by(job)
        with contextlib.suppress(Conflict):
            await self.client.request(
                "POST", secrets_path(namespace), what="create collector token", body=secret
            )
        manifest = collector_manifest(
            job, self.helper_image, self.output_url(job_id), collector_name(job_id)
        )
        manifest["metadata"]["annotations"] = {N.COLLECT_ATTEMPT_ANNOTATION: str(attempt)}
        with contextlib.suppress(Conflict):
            await self.client.request(
                "POST", jobs_path(namespace), what="create collector", body=manifest
            )
            log.info("collecting the output of a job", job=job_id)

    async def tidy(self, namespace: str, job_id: str) -> None:
        """Remove what carried a job's output: its collector, volume and tokens."""
        for path in (
            jobs_path(namespace, collector_name(job_id)),
            claims_path(namespace, output_claim(job_id)),
            secrets_path(namespace, collector_name(job_id)),
            secrets_path(namespace, io_secret(job_id)),
        ):
            with contextlib.suppress(NotFound):
                await self.client.request(
                    "DELETE",
                    path,
                    what="tidy up a collected job",
                    params={"propagationPolicy": "Background"},
                )
