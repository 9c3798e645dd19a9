"""Zips as the API carries them, for tests: a job's input made from files, its output read
back as files."""

from __future__ import annotations

import io
import zipfile

__all__ = ["a_zip", "unzip"]


def a_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    """The files of a zip by name; folders are left out."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
