"""Workflow volumes on Docker: one local volume per workflow, and per stage *views* of
two of its folders, mounted as the stage's ``/input`` and ``/output``.

Docker 20.10's API cannot mount a sub-folder of a volume (``VolumeOptions.Subpath``
came with API 1.45), so a view is a local volume that binds a folder of the
workflow's volume (``type=none, o=bind, device=<its mountpoint>/<folder>``).
Removing a view leaves the folder alone; removing the workflow's volume removes
every stage's files. A stage's output is read from its folder of the workflow's volume,
not through its view: Podman mounts a volume with options only for a running container,
so a finished stage's view reads empty there. Volumes made before names took ``_``
after the namespace (``dev-wf-w1``) are found by their labels, which say their
namespace. The mountpoint is a path on the engine's host, so views work where the
engine Asgard talks to runs its containers: every single-engine job, and Swarm jobs,
which are placed on that manager.
"""

from __future__ import annotations

import asyncio
import io
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path

from asgard.backends.common import Json
from asgard.backends.contract import WorkspaceMount
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.job_output import Fetch
from asgard.backends.docker.specs import internal_name
from asgard.errors import Conflict, NotFound

GONE_POLL_S = 0.2
GONE_TRIES = 50


def workspace_volume(namespace: str, workspace: str) -> str:
    return internal_name(namespace, "wf", workspace)


def job_volume_names(namespace: str, job_id: str) -> tuple[str, str]:
    """The volumes a job may mount at ``/input`` and ``/output``: always on a Swarm, and
    on a single engine when the job is a workflow stage (then they are views)."""
    return (
        internal_name(namespace, "job", job_id, "in"),
        internal_name(namespace, "job", job_id, "out"),
    )


async def job_volumes(client: DockerClient, namespace: str, job_id: str) -> list[str]:
    """The job's volumes on the engine: by today's names (a volume a Swarm task re-created
    has no labels) and by the labels of the namespace and job (whatever their name)."""
    names = set(job_volume_names(namespace, job_id))
    found = {v["Name"] for v in await client.volumes({"name": sorted(names)})} & names
    labelled = await client.volumes({"label": [f"{L.NAMESPACE}={namespace}", f"{L.JOB}={job_id}"]})
    return sorted(found | {v["Name"] for v in labelled})


def _folder_tar(folder: str) -> bytes:
    """A tar holding one empty folder anyone may write to (a job may run as any user)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(folder)
        info.type, info.mode = tarfile.DIRTYPE, 0o777
        tar.addfile(info)
    return buffer.getvalue()


@dataclass(frozen=True)
class StageOutput:
    """Where a finished stage's ``/output`` is: ``folder`` of the workflow's volume, sent
    by ``fetch`` as a tar whose root is named ``folder``."""

    folder: str
    fetch: Fetch


class DockerWorkspaces:
    def __init__(self, client: DockerClient) -> None:
        self.client = client

    def _labels(self, namespace: str, workspace: str) -> dict[str, str]:
        return {L.NAMESPACE: namespace, L.WORKFLOW: workspace}

    async def source(self, namespace: str, workspace: str) -> str | None:
        """The name of the workflow's volume: today's, or an older one its labels claim for
        the namespace (the views of its folders carry a job's label too); None if gone."""
        wanted = workspace_volume(namespace, workspace)
        labelled = await self.client.volumes(
            {"label": [f"{L.NAMESPACE}={namespace}", f"{L.WORKFLOW}={workspace}"]}
        )
        names = sorted(str(v["Name"]) for v in labelled if L.JOB not in (v.get("Labels") or {}))
        if wanted in names:
            return wanted
        return names[0] if names else None

    async def create(self, namespace: str, workspace: str) -> None:
        if await self.source(namespace, workspace) is not None:
            return
        await self.client.create_volume(
            workspace_volume(namespace, workspace), self._labels(namespace, workspace)
        )

    async def view(
        self,
        namespace: str,
        workspace: str,
        folder: str,
        *,
        name: str,
        labels: dict[str, str],
        image: str,
    ) -> None:
        """Make volume ``name`` show ``folder`` of the workspace (made if missing)."""
        gone = NotFound(f"the volume of workflow '{workspace}' is gone")
        source = await self.source(namespace, workspace)
        if source is None:
            raise gone
        try:
            mountpoint = (await self.client.inspect_volume(source))["Mountpoint"]
        except NotFound:
            raise gone from None
        helper = await self.client.create_container(
            {
                "Image": image,
                "Cmd": ["never-started"],
                "Labels": {**self._labels(namespace, workspace), L.ROLE: L.ROLE_HELPER},
                "HostConfig": {
                    "Mounts": [{"Type": "volume", "Source": source, "Target": "/workspace"}]
                },
            }
        )
        try:
            await self.client.put_archive(helper, "/workspace", _folder_tar(folder))
        finally:
            await self.client.remove_container(helper)
        await self.client.create_volume(
            name,
            {**labels, L.WORKFLOW: workspace},
            {"type": "none", "o": "bind", "device": f"{mountpoint}/{folder}"},
        )

    async def stage_output(self, namespace: str, inspected: Json) -> StageOutput | None:
        """The output of a job's container that is a workflow stage's (its ``/output`` a
        view of a folder of the workflow's volume); None for any other job."""
        view = next(
            (
                m.get("Name")
                for m in inspected.get("Mounts") or []
                if m.get("Type") == "volume" and m.get("Destination") == "/output"
            ),
            None,
        )
        if not view:
            return None
        try:
            volume = await self.client.inspect_volume(str(view))
        except NotFound:
            return None
        workspace = (volume.get("Labels") or {}).get(L.WORKFLOW)
        device = (volume.get("Options") or {}).get("device")
        if not workspace or not device:
            return None
        folder = posixpath.basename(str(device).rstrip("/"))
        image = str(inspected.get("Image") or inspected["Config"]["Image"])

        async def fetch(dest: Path, limit: int) -> bool:
            return await self._archive_folder(namespace, str(workspace), folder, image, dest, limit)

        return StageOutput(folder=folder, fetch=fetch)

    async def _archive_folder(
        self, namespace: str, workspace: str, folder: str, image: str, dest: Path, limit: int
    ) -> bool:
        """``folder`` of the workflow's volume as a tar, streamed to ``dest`` up to
        ``limit`` bytes, through a helper container that mounts the volume."""
        source = await self.source(namespace, workspace)
        if source is None:
            raise NotFound(f"the volume of workflow '{workspace}' is gone")
        helper = await self.client.create_container(
            {
                "Image": image,
                "Cmd": ["never-started"],
                "Labels": {**self._labels(namespace, workspace), L.ROLE: L.ROLE_HELPER},
                "HostConfig": {
                    "Mounts": [{"Type": "volume", "Source": source, "Target": "/workspace"}]
                },
            }
        )
        try:
            return await self.client.archive_to_file(helper, f"/workspace/{folder}", dest, limit)
        finally:
            await self.client.remove_container(helper)

    async def job_views(
        self, namespace: str, job_id: str, image: str, mount: WorkspaceMount
    ) -> list[Json]:
        """Make the job's volumes views of its stage's folders; the mounts to give it.
        Without an ``input_dir`` there is no input view, only an empty ``/input``."""
        inbound, outbound = job_volume_names(namespace, job_id)
        own = {L.NAMESPACE: namespace, L.JOB: job_id}
        mounts: list[Json] = []
        for name, folder, target in (
            (inbound, mount.input_dir, "/input"),
            (outbound, mount.output_dir, "/output"),
        ):
            if folder is None:
                continue
            await self.view(namespace, mount.workspace, folder, name=name, labels=own, image=image)
            mounts.append({"Type": "volume", "Source": name, "Target": target})
        return mounts

    async def delete(self, namespace: str, workspace: str) -> None:
        """Remove the views left (their stages' jobs are gone), then the volume itself."""
        views = await self.client.volumes(
            {"label": [f"{L.NAMESPACE}={namespace}", f"{L.WORKFLOW}={workspace}"]}
        )
        source = await self.source(namespace, workspace)
        names = [v["Name"] for v in views if v["Name"] != source]
        for name in [*names, *([source] if source else [])]:
            await self._remove(name)

    async def _remove(self, volume: str) -> None:
        for _ in range(GONE_TRIES):
            try:
                await self.client.remove_volume(volume)
                return
            except Conflict:  # a helper or a task container the Swarm is still removing
                for holder in await self.client.containers({"volume": [volume]}):
                    await self.client.remove_container(holder["Id"])
                await asyncio.sleep(GONE_POLL_S)
        raise Conflict(f"volume '{volume}' is still in use")
