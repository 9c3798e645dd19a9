"""Zips (what Asgard's API speaks) and tars (what clusters copy in and out), both ways."""

from __future__ import annotations

import io
import posixpath
import tarfile
import zipfile


def _dir(name: str, mode: int = 0o777) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info


def job_files_tar(input_zip: bytes | None) -> bytes:
    """A tar to unpack at ``/``: an ``input`` folder holding the zip's files, and an empty
    ``output`` folder anyone may write to, so a job running as any user can leave results."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(_dir("input", 0o755))
        tar.addfile(_dir("output"))
        if input_zip is not None:
            with zipfile.ZipFile(io.BytesIO(input_zip)) as archive:
                for entry in archive.infolist():
                    name = posixpath.normpath(entry.filename).lstrip("/")
                    if name.startswith(".."):
                        continue
                    if entry.is_dir():
                        tar.addfile(_dir(f"input/{name}", 0o755))
                        continue
                    data = archive.read(entry)
                    info = tarfile.TarInfo(f"input/{name}")
                    info.size = len(data)
                    info.mode = 0o755 if (entry.external_attr >> 16) & 0o111 else 0o644
                    tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def folder_zip(tar_bytes: bytes, folder: str) -> bytes:
    """The engine's tar of ``/<folder>`` as a zip of what is inside it (paths relative to it)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for member in tar.getmembers():
            relative = posixpath.relpath(member.name, folder)
            if relative in (".", "") or relative.startswith(".."):
                continue
            if member.isdir():
                archive.writestr(zipfile.ZipInfo(relative + "/"), b"")
            elif member.isfile():
                handle = tar.extractfile(member)
                archive.writestr(relative, handle.read() if handle else b"")
    return out.getvalue()


def empty_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w"):
        pass
    return out.getvalue()


def is_tar(data: bytes) -> bool:
    """A tar, even an empty one (which is nothing but zeros); a zip starts with ``PK``."""
    if data.startswith(b"PK"):
        return False
    try:
        with tarfile.open(fileobj=io.BytesIO(data)):
            return True
    except tarfile.TarError:
        return False


def tar_to_zip(data: bytes) -> bytes:
    """A tar of a folder's contents (``tar -C /output -cf - .``) as a zip of the same files."""
    return folder_zip(data, ".")
