"""One-time jobs, their logs and output; and the two routes a running job uses itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from asgard.errors import InvalidValue, MalformedRequest, PayloadTooLarge
from asgard.http.audit_note import about
from asgard.http.rendering import page_response
from asgard.http.routing import (
    RouteTable,
    decode_json,
    follow,
    json_response,
    parse_model,
    read_body,
)
from asgard.http.schemas import JobBody, JobList, JobLogsQuery, JobsQuery
from asgard.http.state import job_grant, principal, services
from asgard.http.streaming import collect, pump
from asgard.http.uploads import part_chunks, request_chunks
from asgard.job_tokens import JOB_PATH
from asgard.models import JobSpec
from asgard.spooling import spool

routes = RouteTable("jobs")

JOB = JOB_PATH


async def read_job_request(request: web.Request, upload: Path) -> tuple[JobSpec, bool]:
    """A JobSpec as JSON, or multipart with a ``spec`` part and an ``input`` zip part; the
    zip is streamed to ``upload`` (never held in memory). Whether there was one."""
    settings = services(request).settings
    if not request.content_type.startswith("multipart/"):
        raw = await read_body(request, settings.max_body_bytes)
        return parse_model(JobSpec, decode_json(raw)), False
    if request.content_length is not None and request.content_length > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the body is over the limit of {settings.max_upload_bytes} bytes")
    spec: bytes | None = None
    has_input = False
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in ("spec", "input"):
                name = getattr(part, "name", None) or "?"
                raise InvalidValue(f"unexpected part '{name}': only 'spec' and 'input'", field=name)
            if part.name == "spec":
                spec = await _small_part(part, settings.max_body_bytes)
                continue
            if has_input:
                raise InvalidValue("only one 'input' part is accepted", field="input")
            has_input = True
            limit = settings.max_upload_bytes
            await spool(part_chunks(part), upload, limit, "part 'input'")
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        reason = getattr(exc, "message", None) or str(exc)
        raise MalformedRequest(f"malformed multipart body: {reason}".strip()) from None
    if spec is None:
        raise InvalidValue("a 'spec' part with the JobSpec is required", field="spec")
    return parse_model(JobSpec, decode_json(spec)), has_input


async def _small_part(part: BodyPartReader, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in part_chunks(part):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"part '{part.name}' is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@routes.post(
    "/jobs",
    summary="Run a one-time job",
    body=JobSpec,
    multipart=True,
    links=follow(
        "job",
        {"cluster": "cluster", "job_id": "id"},
        "get_job",
        "delete_job",
        "job_logs",
        "job_output",
    ),
    responses={201: JobBody},
)
async def create_job(request: web.Request) -> web.Response:
    """JSON, or multipart with the JobSpec in a ``spec`` part and a zip in an ``input`` part;
    the zip is unpacked at ``/input`` before the job's command starts."""
    jobs = services(request).jobs
    jobs.may_create(principal(request))
    upload = jobs.incoming()
    try:
        spec, has_input = await read_job_request(request, upload)
        about(request, cluster=spec.cluster)
        job = await jobs.create(principal(request), spec, upload if has_input else None)
    finally:
        await asyncio.to_thread(upload.unlink, missing_ok=True)
    about(request, id=job.id)
    return json_response(JobBody(job=job), status=201)


@routes.get(
    "/jobs",
    summary="Jobs of the account on every cluster",
    query=JobsQuery,
    responses={200: JobList},
)
async def list_jobs(request: web.Request, query: JobsQuery) -> web.Response:
    found = await services(request).jobs.list_jobs(principal(request), query.asked(), query.state)
    return page_response(JobList, found)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["cluster"], request.match_info["job_id"]


@routes.get(
    f"{JOB}/logs", summary="The job's output stream", query=JobLogsQuery, responses={200: "text"}
)
async def job_logs(request: web.Request, query: JobLogsQuery) -> web.StreamResponse:
    """With ``follow=true`` the answer streams until the job ends or the client goes away."""
    stream = await services(request).jobs.logs(
        principal(request), *_where(request), follow=query.follow
    )
    if query.follow:
        return await pump(request, stream, "text/plain; charset=utf-8")
    return web.Response(body=await collect(stream), content_type="text/plain", charset="utf-8")


@routes.get(
    f"{JOB}/output", summary="A zip of what the job wrote under /output", responses={200: "zip"}
)
async def job_output(request: web.Request) -> web.StreamResponse:
    """404 until the job has finished and its output is collected. A kept zip is sent
    from its file."""
    cluster, job_id = _where(request)
    data = await services(request).jobs.output(principal(request), cluster, job_id)
    headers = {"Content-Disposition": f'attachment; filename="{job_id}-output.zip"'}
    if isinstance(data, Path):
        return web.FileResponse(data, headers={**headers, "Content-Type": "application/zip"})
    return web.Response(body=data, content_type="application/zip", headers=headers)


@routes.get(
    f"{JOB}/input",
    summary="For the running job: its input zip",
    responses={200: "zip"},
    auth="job",
)
async def job_input_for_job(request: web.Request) -> web.Response:
    """Called by the job itself (an init step), with the token Asgard gave it."""
    data = await services(request).job_files.read_input(job_grant(request), *_where(request))
    return web.Response(body=data, content_type="application/zip")


async def _save_output(request: web.Request) -> web.Response:
    """Streamed to a file up to ``max_output_bytes``; over it, 413 and the job says why."""
    await services(request).job_files.receive_output(
        job_grant(request), *_where(request), request_chunks(request)
    )
    return web.Response(status=204)


@routes.put(
    f"{JOB}/output",
    summary="For the job that ended: leave its output (a zip, or a tar)",
    responses={204: None},
    auth="job",
)
async def job_output_from_job(request: web.Request) -> web.Response:
    """Called by the job (or its collector) with the token Asgard gave it."""
    return await _save_output(request)


@routes.post(
    f"{JOB}/output",
    summary="The same as PUT, for clients that can only POST (busybox wget)",
    responses={204: None},
    auth="job",
)
async def job_output_posted(request: web.Request) -> web.Response:
    """Called by the job (or its collector) with the token Asgard gave it."""
    return await _save_output(request)


@routes.get(JOB, summary="One job, with its status", responses={200: JobBody})
async def get_job(request: web.Request) -> web.Response:
    job = await services(request).jobs.get(principal(request), *_where(request))
    return json_response(JobBody(job=job))


@routes.delete(JOB, summary="Cancel a job and remove everything it created", responses={204: None})
async def delete_job(request: web.Request) -> web.Response:
    """A running job is stopped; its containers, volumes and stored output are removed."""
    await services(request).jobs.delete(principal(request), *_where(request))
    return web.Response(status=204)
