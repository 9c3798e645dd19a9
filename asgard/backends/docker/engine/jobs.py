"""One-time jobs on a single engine: one container per job (what else a job needs, both
modes share: ``asgard.backends.docker.jobs``).

The container is created, the input zip is copied into it (``/input``, with an
empty ``/output`` beside it), and only then started, so the command finds its
input. A workflow stage mounts views of its workflow's volume at ``/input`` and
``/output`` instead (see ``workspaces``). Retries are the engine's ``on-failure``
restart policy. Jobs run with no privileges, every capability dropped, and no
Docker socket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from asgard.archives import job_files_tar
from asgard.backends.common import Json
from asgard.backends.contract import LogStream, WorkspaceMount
from asgard.backends.docker import labels as L
from asgard.backends.docker.converters import container_allotment, env_dict
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.job_output import collect_output
from asgard.backends.docker.job_status import container_status, job_from
from asgard.backends.docker.jobs import DockerJobs
from asgard.backends.docker.logs import log_stream
from asgard.backends.docker.specs import env_list, host_resources, internal_name, job_labels
from asgard.backends.docker.workspaces import job_volumes
from asgard.backends.rollout import unmet
from asgard.errors import InvalidValue, NotFound
from asgard.models import Account, Job, JobSpec, JobStatus, ResourceLimits
from asgard.models.base import utc_now
from asgard.models.job import new_job_id


def job_container(account: Account, spec: JobSpec, job_id: str) -> Json:
    restart = (
        {"Name": "on-failure", "MaximumRetryCount": spec.retries}
        if spec.retries
        else {"Name": "no"}
    )
    config: Json = {
        "Image": spec.image,
        "Env": env_list(spec.env),
        "Labels": job_labels(account, spec, job_id, utc_now()),
        "HostConfig": {
            **host_resources(spec.resources),
            "Privileged": False,
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            "RestartPolicy": restart,
        },
    }
    if spec.command:
        config["Entrypoint"] = spec.command
    if spec.args:
        config["Cmd"] = spec.args
    return config


class EngineJobs(DockerJobs):
    async def _find(self, namespace: str, job_id: str) -> Json:
        found = await self.client.containers(
            {"label": [f"{L.NAMESPACE}={namespace}", f"{L.JOB}={job_id}"]}
        )
        found = [c for c in found if c["Labels"].get(L.ROLE) != L.ROLE_HELPER]
        if not found:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster)
        return await self.client.inspect_container(found[0]["Id"])

    async def launch(
        self, account: Account, spec: JobSpec, input_zip: bytes | None, mount: WorkspaceMount | None
    ) -> str:
        attributes = await self.client.engine_attributes()
        reason = unmet(attributes, account, [], agent="this engine")
        if reason:  # the engine is the only agent there is: the owner's, or none
            raise InvalidValue(reason, field="cluster", cluster=self.cluster)
        await ensure_image(self.client, spec.image)
        job_id = new_job_id(spec.name)
        name = internal_name(account.namespace, "job", job_id)
        config = job_container(account, spec, job_id)
        container: str | None = None
        try:
            if mount is not None:
                config["HostConfig"]["Mounts"] = await self.workspaces.job_views(
                    account.namespace, job_id, spec.image, mount
                )
            container = await self.client.create_container(config, name)
            with await asyncio.to_thread(job_files_tar, input_zip) as tar:
                await self.client.put_archive(container, "/", tar)
            if input_zip is not None:
                await self.artifacts.save_input(self.cluster, account.namespace, job_id, input_zip)
            await self.client.start_container(container)
        except BaseException:
            if container is not None:
                await self.client.remove_container(container)
            await self._remove_views(account.namespace, job_id)
            await self.artifacts.delete(self.cluster, account.namespace, job_id)
            raise
        return job_id

    async def _remove_views(self, namespace: str, job_id: str) -> None:
        """A workflow stage's views of its folders (the folders stay in the workflow's volume)."""
        for volume in await job_volumes(self.client, namespace, job_id):
            await self.client.remove_volume(volume)

    async def _to_job(self, namespace: str, inspected: Json, image_env: set[str]) -> Job:
        labels = inspected["Config"]["Labels"]
        job_id = labels[L.JOB]
        status = container_status(inspected, await self.outcome(namespace, job_id))
        allot = container_allotment(inspected)
        config = inspected.get("Config") or {}
        spec_env = L.spec_env(env_dict(config.get("Env")), labels)
        return job_from(
            cluster=self.cluster,
            job_id=job_id,
            labels=labels,
            image=config.get("Image", ""),
            command=config.get("Entrypoint"),
            args=config.get("Cmd"),
            env=[e for e in env_list(spec_env) if e not in image_env],
            resources=ResourceLimits(cpus=allot.cpus or None, mem=allot.mem or None),
            status=status,
        )

    async def _image_env(self, image_id: str) -> set[str]:
        try:
            image = await self.client.request("GET", self.client.image_path(image_id), what="image")
        except NotFound:
            return set()
        return set((image.get("Config") or {}).get("Env") or [])

    async def find(self, namespace: str, job_id: str) -> Job:
        inspected = await self._find(namespace, job_id)
        return await self._to_job(namespace, inspected, await self._image_env(inspected["Image"]))

    async def status(self, namespace: str, job_id: str) -> JobStatus:
        inspected = await self._find(namespace, job_id)
        return container_status(inspected, await self.outcome(namespace, job_id))

    async def jobs_in(self, namespace: str) -> list[Job]:
        listed = await self.client.containers(L.namespace_filter(namespace, L.JOB))
        ids = [c["Id"] for c in listed if c["Labels"].get(L.ROLE) != L.ROLE_HELPER]
        inspected = await asyncio.gather(
            *(self.client.inspect_container(i) for i in ids), return_exceptions=True
        )
        found = [i for i in inspected if isinstance(i, dict)]
        envs = {i: await self._image_env(i) for i in {c["Image"] for c in found}}
        return [await self._to_job(namespace, c, envs[c["Image"]]) for c in found]

    async def every_job(self) -> list[tuple[str, str]]:
        listed = await self.client.containers({"label": [L.JOB]})
        return [
            (c["Labels"][L.NAMESPACE], c["Labels"][L.JOB])
            for c in listed
            if c["Labels"].get(L.ROLE) != L.ROLE_HELPER and L.NAMESPACE in c["Labels"]
        ]

    async def is_active(self, namespace: str, job_id: str) -> bool:
        inspected = await self._find(namespace, job_id)
        return inspected["State"].get("Status") in ("running", "restarting", "paused")

    async def stop(self, namespace: str, job_id: str) -> None:
        """Stop the job now (its timeout passed): kill it, no restart follows a kill."""
        inspected = await self._find(namespace, job_id)
        if inspected["State"].get("Status") in ("running", "restarting", "paused", "created"):
            await self.client.kill_container(inspected["Id"])

    async def collect_output(self, namespace: str, job_id: str) -> str | None:
        """Copy ``/output`` out of the finished container, streamed; a workflow stage's
        from its folder of the workflow's volume (``DockerWorkspaces.stage_output``)."""
        inspected = await self._find(namespace, job_id)
        stage = await self.workspaces.stage_output(namespace, inspected)
        if stage is not None:
            return await collect_output(
                self.artifacts, self.cluster, namespace, job_id, stage.fetch, folder=stage.folder
            )

        async def fetch(dest: Path, limit: int) -> bool:
            return await self.client.archive_to_file(inspected["Id"], "/output", dest, limit)

        return await collect_output(self.artifacts, self.cluster, namespace, job_id, fetch)

    async def remove(self, namespace: str, job_id: str) -> None:
        inspected = await self._find(namespace, job_id)
        await self.client.remove_container(inspected["Id"])
        if any(m.get("Type") == "volume" for m in inspected.get("Mounts") or []):
            await self._remove_views(namespace, job_id)
        await self.artifacts.delete(self.cluster, namespace, job_id)

    async def log_stream(self, namespace: str, job_id: str, *, follow: bool) -> LogStream:
        inspected = await self._find(namespace, job_id)
        tty = bool(inspected.get("Config", {}).get("Tty"))
        return log_stream(
            self.client,
            self.client.path("containers", inspected["Id"], "logs"),
            tail=None,
            follow=follow,
            tty=tty,
        )
