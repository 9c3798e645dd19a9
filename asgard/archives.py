"""Zips (what Asgard's API speaks) and tars (what clusters copy in and out), both ways."""

from __future__ import annotations

import io
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO


def _dir(name: str, mode: int = 0o777) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info


def job_files_tar(input_zip: bytes | None) -> BinaryIO:
    """A tar to unpack at ``/``, in a temporary file rewound to its start: an ``input``
    folder holding the zip's files, and an empty ``output`` folder anyone may write to, so
    a job running as any user can leave results. Each file is streamed from the zip into
    the tar, so memory does not grow with the input; the zip was checked before
    (``asgard.zip_checks``), and links or paths that leave the folder are skipped here
    anyway. Blocking: run it in a thread."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        with tarfile.open(fileobj=spool, mode="w") as tar:
            tar.addfile(_dir("input", 0o755))
            tar.addfile(_dir("output"))
            if input_zip is not None:
                with zipfile.ZipFile(io.BytesIO(input_zip)) as archive:
                    for entry in archive.infolist():
                        _add_entry(tar, archive, entry)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _add_entry(tar: tarfile.TarFile, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    name = posixpath.normpath(entry.filename).lstrip("/")
    mode = entry.external_attr >> 16
    if name.startswith("..") or stat.S_ISLNK(mode):
        return
    if entry.is_dir():
        tar.addfile(_dir(f"input/{name}", 0o755))
        return
    info = tarfile.TarInfo(f"input/{name}")
    info.size = entry.file_size
    info.mode = 0o755 if mode & 0o111 else 0o644
    with archive.open(entry) as member:
        tar.addfile(info, member)


def folder_zip_file(tar_path: Path, folder: str, zip_path: Path) -> None:
    """The engine's tar of ``/<folder>`` (a file) as a zip of what is inside it (paths
    relative to it), written to ``zip_path``; each file streamed, links and special files
    left out. Blocking: run it in a thread."""
    with (
        tarfile.open(tar_path) as tar,
        zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
    ):
        for member in tar:
            if not member.name.strip("/."):
                continue  # the folder itself, which Podman may name "" (Docker names it)
            relative = posixpath.relpath(member.name, folder)
            if relative in (".", "") or relative.startswith(".."):
                continue
            if member.isdir():
                archive.writestr(zipfile.ZipInfo(relative + "/"), b"")
            elif member.isfile():
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                with handle, archive.open(relative, "w", force_zip64=True) as out:
                    shutil.copyfileobj(handle, out, 1024 * 1024)


def folder_zip(tar_bytes: bytes, folder: str) -> bytes:
    """``folder_zip_file`` for a tar held in memory (small ones: tests, the local kind)."""
    with tempfile.TemporaryDirectory() as scratch:
        tar_path, zip_path = Path(scratch, "in.tar"), Path(scratch, "out.zip")
        tar_path.write_bytes(tar_bytes)
        folder_zip_file(tar_path, folder, zip_path)
        return zip_path.read_bytes()


def is_tar_file(path: Path) -> bool:
    """Whether the file is a tar, even an empty one (nothing but zeros); a zip starts
    with ``PK``."""
    with path.open("rb") as handle:
        if handle.read(2) == b"PK":
            return False
    try:
        with tarfile.open(path):
            return True
    except tarfile.TarError:
        return False
