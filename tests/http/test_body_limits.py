"""Bodies are refused (413, naming the limit) before they are read whole.

The proof that a body was not read whole: the request is sent over a plain socket with
only its first part written, the rest never sent, and the 413 still comes back. Only
the upload routes (a job's input, a job's output) read past ``max_body_bytes``, and
they stream to a file, refusing at their own limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from asgard.job_tokens import JobGrant
from asgard.models import Role
from asgard.testing.files import a_zip
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest

KiB = 1024
MiB = 1024 * KiB
GRANT = JobGrant(cluster="k8s", namespace="dev", job_id="etl-abc123")
OUTPUT = "/clusters/k8s/jobs/etl-abc123/output"


async def partly_sent(asgard: AsgardUnderTest, head: str, first: bytes) -> tuple[int, str]:
    """Send ``head`` and only ``first`` of the body, then wait for the answer."""
    url = asgard.client.make_url("/")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + first)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        answer = await asyncio.wait_for(reader.read(256 * KiB), 10)
    finally:
        writer.close()
    return int(status_line.split()[1]), answer.decode(errors="replace")


async def test_an_8_mib_login_form_is_413_before_it_is_read(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    head = (
        "POST /ui/login HTTP/1.1\nHost: x\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {8 * MiB}\n"
    )
    status, answer = await partly_sent(asgard, head, b"key=" + b"a" * KiB)
    assert status == 413
    assert "the form is over the limit of 65536 bytes" in answer


async def test_a_chunked_login_form_is_cut_at_the_form_limit(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(max_form_bytes=16 * KiB)
    head = (
        "POST /ui/login HTTP/1.1\nHost: x\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        "Transfer-Encoding: chunked\n"
    )
    chunk = b"key=" + b"a" * (32 * KiB)
    status, answer = await partly_sent(
        asgard, head, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    )
    assert status == 413
    assert "Request Entity Too Large" in answer or "over the limit" in answer


async def test_a_json_write_over_its_limit_is_413_before_it_is_read(
    start_asgard: StartAsgard,
) -> None:
    asgard = await start_asgard()
    account = await asgard.account("dev")
    root = await asgard.caller("root@example.com", admin=True, roles={account.id: Role.ADMIN})
    for path in ("/users", "/accounts", "/apps", "/users/me/tokens"):
        head = (
            f"POST {path} HTTP/1.1\nHost: x\nAuthorization: Token {root.key}\n"
            f"Content-Type: application/json\nContent-Length: {8 * MiB}\n"
        )
        status, answer = await partly_sent(asgard, head, b'{"name": "' + b"x" * KiB)
        assert status == 413, (path, answer)
        assert f"the body is over the limit of {MiB} bytes" in answer


async def test_an_input_over_the_upload_limit_is_413_and_leaves_nothing(
    start_asgard: StartAsgard, tmp_path: Path
) -> None:
    asgard = await start_asgard(max_upload_bytes=MiB)
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})

    async def zip_stream() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield bytes(MiB)

    form = aiohttp.FormData()
    form.add_field("spec", '{"cluster": "x", "name": "n", "image": "i"}')
    form.add_field("input", zip_stream(), filename="in.zip", content_type="application/zip")
    response = await dev.post("/jobs", data=form)
    assert response.status == 413
    assert (await response.json())["errors"][0]["msg"] == (
        f"part 'input' is over the limit of {MiB} bytes"
    )
    incoming = tmp_path / "data" / "artifacts" / ".incoming"
    assert list(incoming.iterdir()) == []


async def test_a_job_output_over_the_limit_is_refused_for_good(
    start_asgard: StartAsgard, tmp_path: Path
) -> None:
    asgard = await start_asgard(max_output_bytes=MiB)
    token = asgard.services.job_tokens.issue(GRANT, 60)
    headers = {"Authorization": f"Bearer {token}"}

    async def output() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield bytes(512 * KiB)

    response = await asgard.client.put(OUTPUT, data=output(), headers=headers)
    assert response.status == 413
    reason = f"the job's output over the limit of {MiB} bytes"
    assert (await response.json())["errors"][0]["msg"] == reason
    store = asgard.services.job_files.artifacts
    assert await store.output_refused("k8s", "dev", "etl-abc123") is not None
    assert await store.read_output("k8s", "dev", "etl-abc123") is None
    assert list((tmp_path / "data" / "artifacts" / ".incoming").iterdir()) == []

    small = a_zip({"r.txt": b"1"})  # a collector trying again: refused, not collected again
    again = await asgard.client.put(OUTPUT, data=small, headers=headers)
    assert again.status == 413
    assert (await again.json())["errors"][0]["msg"] == reason
    assert await store.read_output("k8s", "dev", "etl-abc123") is None
