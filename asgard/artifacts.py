"""Asgard's own store for job files: the input zip a job starts with, the output zip it leaves.

Jobs run on clusters that share no storage with Asgard, so Asgard keeps the
files itself, in a folder under its data directory, one folder per job:
``<root>/<cluster>/<namespace>/<job_id>/{input,output}.zip``. Writes go to a
temporary file first and are renamed into place, so a reader never sees half
a zip and a crash never leaves one.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")

INPUT = "input.zip"
OUTPUT = "output.zip"
REFUSED = "output-refused"
"""The note saying a job's output was over the limit and not kept: it is not collected again."""

DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024


def _part(value: str) -> str:
    """Each path part comes from a name we validated, but the store checks again."""
    if not _SAFE.match(value) or value in (".", ".."):
        raise ValueError(f"not a safe name for a folder: {value!r}")
    return value


class ArtifactStore:
    def __init__(self, root: Path, *, max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.root = root
        self.max_output_bytes = max_output_bytes
        """The most bytes a job's output may take as it comes from the cluster."""

    def incoming(self) -> Path:
        """A new, empty temporary file in the store, for what is streamed in before it is
        checked: on the same disk as its final place, so keeping it is a rename."""
        folder = self.root / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder)
        os.close(fd)
        return Path(name)

    async def keep_output_file(
        self, cluster: str, namespace: str, job_id: str, zipped: Path
    ) -> None:
        """Move a finished output zip (made by ``incoming`` and filled) into place."""
        path = self.job_dir(cluster, namespace, job_id) / OUTPUT

        def move() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(zipped, path)

        await asyncio.to_thread(move)

    async def refuse_output(self, cluster: str, namespace: str, job_id: str) -> str:
        """Record that the job's output was over the limit; the reason, for its status."""
        reason = f"output over the limit of {self.max_output_bytes} bytes"
        await self.save_note(cluster, namespace, job_id, REFUSED, {"reason": reason})
        return reason

    async def output_refused(self, cluster: str, namespace: str, job_id: str) -> str | None:
        """Why the job's output was not kept, or None."""
        note = await self.read_note(cluster, namespace, job_id, REFUSED)
        return None if note is None else str(note.get("reason") or "output over the limit")

    def settled(self, cluster: str, namespace: str, job_id: str) -> bool:
        """Whether the output was collected or refused: either way, not to be collected again
        (after a restart, say). Blocking (a look at the disk): ``output_settled`` in a loop."""
        folder = self.job_dir(cluster, namespace, job_id)
        return (folder / OUTPUT).exists() or (folder / f"{REFUSED}.json").exists()

    async def output_settled(self, cluster: str, namespace: str, job_id: str) -> bool:
        return await asyncio.to_thread(self.settled, cluster, namespace, job_id)

    def job_dir(self, cluster: str, namespace: str, job_id: str) -> Path:
        return self.root / _part(cluster) / _part(namespace) / _part(job_id)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    async def save_input(self, cluster: str, namespace: str, job_id: str, data: bytes) -> None:
        path = self.job_dir(cluster, namespace, job_id) / INPUT
        await asyncio.to_thread(self._write, path, data)

    async def read_input(self, cluster: str, namespace: str, job_id: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self.job_dir(cluster, namespace, job_id) / INPUT)

    async def save_output(self, cluster: str, namespace: str, job_id: str, data: bytes) -> None:
        path = self.job_dir(cluster, namespace, job_id) / OUTPUT
        await asyncio.to_thread(self._write, path, data)

    async def read_output(self, cluster: str, namespace: str, job_id: str) -> bytes | None:
        return await asyncio.to_thread(
            self._read, self.job_dir(cluster, namespace, job_id) / OUTPUT
        )

    async def save_note(
        self, cluster: str, namespace: str, job_id: str, name: str, note: dict[str, Any]
    ) -> None:
        """A small JSON document about the job that the cluster cannot hold (why Asgard
        stopped it, say); ``name`` picks the file."""
        path = self.job_dir(cluster, namespace, job_id) / f"{_part(name)}.json"
        await asyncio.to_thread(self._write, path, json.dumps(note).encode())

    async def read_note(
        self, cluster: str, namespace: str, job_id: str, name: str
    ) -> dict[str, Any] | None:
        path = self.job_dir(cluster, namespace, job_id) / f"{_part(name)}.json"
        data = await asyncio.to_thread(self._read, path)
        return None if data is None else dict(json.loads(data))

    async def delete(self, cluster: str, namespace: str, job_id: str) -> None:
        await asyncio.to_thread(
            shutil.rmtree, self.job_dir(cluster, namespace, job_id), ignore_errors=True
        )
