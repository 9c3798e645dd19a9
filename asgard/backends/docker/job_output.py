"""A finished Docker job's ``/output``, from its container into Asgard's store, streamed.

The engine sends a folder as a tar; it goes to a file as it comes, up to the store's
``max_output_bytes``, and is turned into the zip Asgard serves in a thread. A job whose
output is over the limit has it refused: nothing is kept but a note saying so, which
also means it is not collected again (after a restart, say).
"""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from asgard.archives import folder_zip_file
from asgard.artifacts import ArtifactStore
from asgard.errors import NotFound

__all__ = ["Fetch", "collect_output"]

Fetch = Callable[[Path, int], Awaitable[bool]]
"""Streams the tar of ``/output`` to a file, up to a limit; False when over it."""


def _to_zip(tar: Path, zipped: Path, folder: str) -> None:
    if tar.stat().st_size == 0:  # no /output folder at all
        with zipfile.ZipFile(zipped, "w"):
            return
    folder_zip_file(tar, folder, zipped)


async def collect_output(
    artifacts: ArtifactStore,
    cluster: str,
    namespace: str,
    job_id: str,
    fetch: Fetch,
    *,
    folder: str = "output",
) -> str | None:
    """Keep the job's output; None once kept, or why it was refused. ``folder``: the name
    of the folder ``fetch`` sends (``output``, or a workflow's folder of a stage)."""
    tar = artifacts.incoming()
    zipped = tar.with_name(tar.name + ".zip")
    try:
        try:
            within = await fetch(tar, artifacts.max_output_bytes)
        except NotFound:
            within = True  # the container has no /output: an empty zip
        if not within:
            return await artifacts.refuse_output(cluster, namespace, job_id)
        await asyncio.to_thread(_to_zip, tar, zipped, folder)
        await artifacts.keep_output_file(cluster, namespace, job_id, zipped)
        return None
    finally:
        for path in (tar, zipped):
            await asyncio.to_thread(path.unlink, missing_ok=True)
