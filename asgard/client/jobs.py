"""One-time jobs: creating one with an input zip, waiting for it, its logs and its output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Final

import aiohttp

from asgard.client.pagination import each
from asgard.client.transport import Transport, path_of
from asgard.http.schemas import JobBody, JobList
from asgard.models import Job, JobSpec

__all__ = ["CHUNK", "JobsClient", "Progress"]

Progress = Callable[[int, int | None], None]
"""Told ``(bytes so far, bytes in all or None when unknown)`` as a transfer goes on."""

CHUNK: Final = 256 * 1024


async def _chunks(data: bytes, progress: Progress | None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
        if progress is not None:
            progress(min(start + CHUNK, len(data)), len(data))


class JobsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _one(self, cluster: str, job_id: str, *rest: str) -> str:
        return path_of("clusters", cluster, "jobs", job_id, *rest)

    async def page(
        self,
        *,
        cluster: str | list[str] | None = None,
        state: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        stale: bool = False,
    ) -> JobList:
        params = {
            "cluster": cluster,
            "state": state,
            "limit": limit,
            "cursor": cursor,
            "stale": stale or None,
        }
        return await self._t.model(JobList, "GET", "/jobs", params=params)

    def all(
        self, *, cluster: str | list[str] | None = None, state: str | None = None
    ) -> AsyncIterator[Job]:
        async def fetch(cursor: str | None) -> JobList:
            return await self.page(cluster=cluster, state=state, cursor=cursor)

        return each(fetch, lambda page: page.jobs)

    async def create(
        self,
        spec: JobSpec | Mapping[str, Any],
        input_zip: bytes | None = None,
        progress: Progress | None = None,
    ) -> Job:
        """As JSON, or with ``input_zip`` as multipart (unpacked at ``/input`` before the
        command starts); ``progress`` hears the upload."""
        if input_zip is None:
            return (await self._t.model(JobBody, "POST", "/jobs", body=spec)).job
        if isinstance(spec, JobSpec):
            spec = spec.model_dump(mode="json", exclude_unset=True)
        with aiohttp.MultipartWriter("form-data") as form:
            part = form.append(json.dumps(spec), {"Content-Type": "application/json"})
            part.set_content_disposition("form-data", name="spec")
            upload = form.append(_chunks(input_zip, progress), {"Content-Type": "application/zip"})
            upload.set_content_disposition("form-data", name="input", filename="input.zip")
            data = await self._t.call("POST", "/jobs", data=form)
        return JobBody.model_validate(data).job

    async def get(self, cluster: str, job_id: str) -> Job:
        return (await self._t.model(JobBody, "GET", self._one(cluster, job_id))).job

    async def delete(self, cluster: str, job_id: str) -> None:
        """Cancels a running job and removes what it made on the cluster."""
        await self._t.call("DELETE", self._one(cluster, job_id))

    def logs(self, cluster: str, job_id: str, *, follow: bool = False) -> AsyncIterator[str]:
        """With ``follow`` the lines go on until the job ends."""
        path = self._one(cluster, job_id, "logs")
        return self._t.text(path, {"follow": follow}, follow=follow)

    async def wait(self, cluster: str, job_id: str, *, poll_s: float = 1.0) -> Job:
        """The job once it has finished (succeeded, failed or cancelled)."""
        while True:
            job = await self.get(cluster, job_id)
            if job.status.finished:
                return job
            await asyncio.sleep(poll_s)

    async def output(self, cluster: str, job_id: str) -> bytes:
        """The zip of what the job wrote under ``/output``; NotFound until it finished."""
        async with self._t.open("GET", self._one(cluster, job_id, "output")) as response:
            return await response.read()

    async def download_output(
        self, cluster: str, job_id: str, target: Path, progress: Progress | None = None
    ) -> int:
        """The output zip written to ``target`` as it arrives; returns its size."""
        size = 0
        async with self._t.open("GET", self._one(cluster, job_id, "output")) as response:
            total = response.content_length
            with target.open("wb") as out:
                async for chunk in response.content.iter_chunked(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(size, total)
        return size
