"""One-time jobs on a Swarm: a replicated-job service (one completion, retries as restarts);
what else a job needs, both modes share (``asgard.backends.docker.jobs``).

Swarm creates the job's container itself, so Asgard cannot copy the input
into it before it starts. The job gets two volumes instead, ``/input`` and
``/output``: the input is copied into the first before the service exists,
the output read from the second once the job is over, each through a helper
container that is never started. For a workflow stage the two volumes are
views of folders of the workflow's volume (see ``workspaces``). Local volumes
live on one node, so the job is placed on the manager Asgard talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from asgard.archives import job_files_tar
from asgard.backends.common import Json
from asgard.backends.contract import LogStream, WorkspaceMount
from asgard.backends.docker import labels as L
from asgard.backends.docker.converters import strip_digest
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.job_output import collect_output
from asgard.backends.docker.job_status import job_from, job_settings, service_status
from asgard.backends.docker.jobs import DockerJobs
from asgard.backends.docker.logs import log_stream
from asgard.backends.docker.specs import (
    env_list,
    internal_name,
    job_labels,
    placement,
    swarm_resources,
)
from asgard.backends.docker.workspaces import job_volume_names, job_volumes
from asgard.backends.log_streams import until_ended
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import Account, Job, JobSpec, JobStatus, ResourceLimits
from asgard.models.base import utc_now
from asgard.models.job import new_job_id

T = TypeVar("T")

GONE_POLL_S = 0.2
TASKS_GONE_S = 15.0
QUIET_S = 1.0
SETTING_UP = frozenset({"new", "allocated", "pending", "assigned", "accepted", "preparing"})
"""Task states after which a node's agent may yet create the task's container."""
PENDING_S = 3.0
"""How long a task that stays pending (no node for it) is waited for before its removal."""
NANO = 1e9
MiB = 1024 * 1024


def restart_policy(retries: int) -> Json:
    """Swarm reads ``MaxAttempts: 0`` as "retry forever", so no retries is no restart at all."""
    if retries == 0:
        return {"Condition": "none"}
    return {"Condition": "on-failure", "MaxAttempts": retries, "Delay": 1_000_000_000}


class SwarmJobs(DockerJobs):
    async def _service(self, namespace: str, job_id: str) -> Json:
        found = await self.client.services(
            {"label": [f"{L.NAMESPACE}={namespace}", f"{L.JOB}={job_id}"]}
        )
        if not found:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster)
        return found[0]

    async def _with_helper(
        self, namespace: str, job_id: str, image: str, work: Callable[[str], Awaitable[T]]
    ) -> T:
        """Mount the job's volumes in a container that never starts, and copy through it."""
        inbound, outbound = job_volume_names(namespace, job_id)
        helper = await self.client.create_container(
            {
                "Image": image,
                "Cmd": ["never-started"],  # the engine wants a command, even for this
                "Labels": {L.NAMESPACE: namespace, L.JOB: job_id, L.ROLE: L.ROLE_HELPER},
                "HostConfig": {
                    "Mounts": [
                        {"Type": "volume", "Source": inbound, "Target": "/input"},
                        {"Type": "volume", "Source": outbound, "Target": "/output"},
                    ]
                },
            }
        )
        try:
            return await work(helper)
        finally:
            await self.client.remove_container(helper)

    async def _fill(self, namespace: str, job_id: str, image: str, input_zip: bytes | None) -> None:
        """The job's volumes get its input, and an empty output folder anyone may write."""
        with await asyncio.to_thread(job_files_tar, input_zip) as tar:

            async def fill(helper: str) -> None:
                await self.client.put_archive(helper, "/", tar)

            await self._with_helper(namespace, job_id, image, fill)

    async def launch(
        self, account: Account, spec: JobSpec, input_zip: bytes | None, mount: WorkspaceMount | None
    ) -> str:
        node = await self._node_for(account)
        await ensure_image(self.client, spec.image)
        job_id = new_job_id(spec.name)
        namespace = account.namespace
        labels = job_labels(account, spec, job_id, utc_now())
        volumes = job_volume_names(namespace, job_id)
        own = {L.NAMESPACE: namespace, L.JOB: job_id}
        try:
            views: set[str] = set()
            if mount is not None:  # a workflow stage: its volumes are views of the workflow's
                made = await self.workspaces.job_views(namespace, job_id, spec.image, mount)
                views = {m["Source"] for m in made}
            for volume in volumes:
                if volume not in views:
                    await self.client.create_volume(volume, own)
            await self._fill(namespace, job_id, spec.image, input_zip)
            if input_zip is not None:
                await self.artifacts.save_input(self.cluster, namespace, job_id, input_zip)
            container: Json = {
                "Image": spec.image,
                "Env": env_list(spec.env),
                "Labels": own,
                "CapabilityDrop": ["ALL"],
                "Mounts": [
                    {"Type": "volume", "Source": volumes[0], "Target": "/input"},
                    {"Type": "volume", "Source": volumes[1], "Target": "/output"},
                ],
            }
            if spec.command:
                container["Command"] = spec.command
            if spec.args:
                container["Args"] = spec.args
            await self.client.create_service(
                {
                    "Name": internal_name(namespace, "job", job_id),
                    "Labels": labels,
                    "TaskTemplate": {
                        "ContainerSpec": container,
                        "Resources": swarm_resources(spec.resources),
                        "RestartPolicy": restart_policy(spec.retries),
                        "Placement": {"Constraints": placement(account, [f"node.id=={node}"])},
                    },
                    "Mode": {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}},
                }
            )
        except BaseException:
            await self._remove(namespace, job_id)
            raise
        return job_id

    async def _node_for(self, account: Account) -> str:
        """The manager Asgard talks to, where the job's local volumes are: refused (422)
        when the account has an owner and this node is not one of its agents, as a job
        constrained to both would wait for ever."""
        node = (await self.client.mode()).node_id
        if account.owner is not None:
            labels = ((await self.client.node(node)).get("Spec") or {}).get("Labels") or {}
            if labels.get("owner") != account.owner:
                raise InvalidValue(
                    f"jobs run on the Swarm manager Asgard talks to, which is not an agent of "
                    f"owner '{account.owner}'",
                    field="cluster",
                    cluster=self.cluster,
                )
        return node

    async def _status(self, namespace: str, service: Json) -> JobStatus:
        job_id = service["Spec"]["Labels"][L.JOB]
        tasks = await self.client.tasks({"service": [service["ID"]]})
        _, retries = job_settings(service["Spec"]["Labels"])
        return service_status(tasks, retries, await self.outcome(namespace, job_id))

    async def _to_job(self, namespace: str, service: Json) -> Job:
        spec = service["Spec"]
        container = spec["TaskTemplate"]["ContainerSpec"]
        allot = spec["TaskTemplate"].get("Resources", {}).get("Limits", {})
        return job_from(
            cluster=self.cluster,
            job_id=spec["Labels"][L.JOB],
            labels=spec["Labels"],
            image=strip_digest(container.get("Image", "")),
            command=container.get("Command"),
            args=container.get("Args"),
            env=container.get("Env"),
            resources=ResourceLimits(
                cpus=allot["NanoCPUs"] / NANO if allot.get("NanoCPUs") else None,
                mem=allot["MemoryBytes"] / MiB if allot.get("MemoryBytes") else None,
            ),
            status=await self._status(namespace, service),
        )

    async def find(self, namespace: str, job_id: str) -> Job:
        return await self._to_job(namespace, await self._service(namespace, job_id))

    async def status(self, namespace: str, job_id: str) -> JobStatus:
        return await self._status(namespace, await self._service(namespace, job_id))

    async def jobs_in(self, namespace: str) -> list[Job]:
        services = await self.client.services(L.namespace_filter(namespace, L.JOB))
        return list(await asyncio.gather(*(self._to_job(namespace, s) for s in services)))

    async def every_job(self) -> list[tuple[str, str]]:
        services = await self.client.services({"label": [L.JOB]})
        labels = [s["Spec"]["Labels"] for s in services]
        return [(x[L.NAMESPACE], x[L.JOB]) for x in labels if L.NAMESPACE in x]

    async def is_active(self, namespace: str, job_id: str) -> bool:
        """Whether an attempt runs, or the Swarm will start another (retries left)."""
        service = await self._service(namespace, job_id)
        tasks = await self.client.tasks({"service": [service["ID"]]})
        _, retries = job_settings(service["Spec"]["Labels"])
        return not service_status(tasks, retries, None).finished

    async def stop(self, namespace: str, job_id: str) -> None:
        """Kill what runs of the job; a retry the Swarm starts later is killed by the watcher."""
        service = await self._service(namespace, job_id)
        tasks = await self.client.tasks(
            {"service": [service["ID"]]}
        )  # a job's tasks want "complete"
        for task in tasks:
            if task.get("Status", {}).get("State") not in ("running", "starting"):
                continue
            container = task.get("Status", {}).get("ContainerStatus", {}).get("ContainerID")
            if container:
                with contextlib.suppress(NotFound):
                    await self.client.kill_container(container)

    async def collect_output(self, namespace: str, job_id: str) -> str | None:
        """The job's output volume, read through a helper."""
        service = await self._service(namespace, job_id)
        image = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]

        async def fetch(dest: Path, limit: int) -> bool:
            async def read(helper: str) -> bool:
                return await self.client.archive_to_file(helper, "/output", dest, limit)

            return await self._with_helper(namespace, job_id, image, read)

        return await collect_output(self.artifacts, self.cluster, namespace, job_id, fetch)

    async def _remove(self, namespace: str, job_id: str) -> None:
        filters = {"label": [f"{L.NAMESPACE}={namespace}", f"{L.JOB}={job_id}"]}
        services = [s["ID"] for s in await self.client.services(filters)]
        for service in services:
            await self._tasks_set_up(service)
            await self.client.remove_service(service)
        # The Swarm removes the tasks' containers on its own time, and a task that was still
        # starting can get its container after the service is gone, re-creating any volume
        # it mounts that was removed meanwhile. So: remove what is there, and again, until
        # nothing has come back for a moment.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TASKS_GONE_S
        quiet_since = loop.time()
        while loop.time() - quiet_since < QUIET_S and loop.time() < deadline:
            if await self._remove_left(namespace, job_id, filters):
                quiet_since = loop.time()
            await asyncio.sleep(GONE_POLL_S)
        await self.artifacts.delete(self.cluster, namespace, job_id)

    async def _tasks_set_up(self, service: str) -> None:
        """Wait until no task of the service is still being placed or set up on a node: an
        agent preparing a task creates its container even after the service is removed,
        and a task about to be placed may still be. Once a task is ready, running or over,
        its container exists or never will. Bounded: ``TASKS_GONE_S`` in all, and
        ``PENDING_S`` for a task that stays pending (no node can take it, and none will)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        while loop.time() - began < TASKS_GONE_S:
            tasks = await self.client.tasks({"service": [service]})
            states = {str(t.get("Status", {}).get("State", "")) for t in tasks}
            unsettled = states & SETTING_UP
            if not unsettled or (unsettled == {"pending"} and loop.time() - began > PENDING_S):
                return
            await asyncio.sleep(GONE_POLL_S)

    async def _remove_left(
        self, namespace: str, job_id: str, filters: dict[str, list[str]]
    ) -> bool:
        """Remove the job's containers and volumes; whether there were any."""
        found = False
        for container in await self.client.containers(filters):
            await self.client.remove_container(container["Id"])
            found = True
        for volume in await job_volumes(self.client, namespace, job_id):
            found = True
            while True:
                try:
                    await self.client.remove_volume(volume)
                    break
                except Conflict:
                    for holder in await self.client.containers({"volume": [volume]}):
                        await self.client.remove_container(holder["Id"])
                    await asyncio.sleep(GONE_POLL_S)
        return found

    async def remove(self, namespace: str, job_id: str) -> None:
        await self._service(namespace, job_id)
        await self._remove(namespace, job_id)

    async def log_stream(self, namespace: str, job_id: str, *, follow: bool) -> LogStream:
        """Followed, the service's log stays open once the job is over: it ends then."""
        service = await self._service(namespace, job_id)
        stream = log_stream(
            self.client,
            self.client.path("services", service["ID"], "logs"),
            tail=None,
            follow=follow,
            tty=False,
        )
        return until_ended(stream, partial(self._over, namespace, job_id)) if follow else stream

    async def _over(self, namespace: str, job_id: str) -> bool:
        try:
            return (await self.status(namespace, job_id)).finished
        except NotFound:  # removed meanwhile
            return True
