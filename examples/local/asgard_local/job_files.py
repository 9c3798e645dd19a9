"""A job's files on the host: the input zip unpacked into its ``input/`` folder, and what
it left in ``output/`` zipped for ``job_output``.

The zip a user sends names the paths it unpacks to, and the folder a job wrote is the
job's to shape, even while Asgard reads it, so neither is trusted: entries that would
land outside the folder are dropped, and the output is walked by descriptors, each
folder and file opened relative to its parent's without following a link, so a job that
swaps a folder for a link (to ``/``, to Asgard's data) while it is read gets nothing
through it. Only folders and regular files are zipped, never a link, device or fifo.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Final

from asgard.errors import InvalidValue
from asgard_local.identities import Identity

__all__ = ["unpack_input", "zip_folder"]

DIRECTORY: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
MAX_DEPTH: Final = 64
"""Folders deeper than this in an output are left out: each level holds a descriptor."""
COPY_CHUNK: Final = 1024 * 1024


def unpack_input(data: bytes, folder: Path) -> None:
    """The zip's files under ``folder``, executable where they were."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidValue(f"the input is not a zip: {exc}", field="input") from None
    with archive:
        for entry in archive.infolist():
            name = posixpath.normpath(entry.filename).lstrip("/")
            if name in ("", ".") or name.startswith(".."):
                continue
            try:
                _unpack(archive, entry, folder / name)
            except (OSError, zipfile.BadZipFile) as exc:  # a file where a folder goes...
                raise InvalidValue(
                    f"the input cannot be unpacked at {name}: {exc}", field="input"
                ) from None


def _unpack(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path) -> None:
    if entry.is_dir():
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        return
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    target.write_bytes(archive.read(entry))
    target.chmod(0o755 if (entry.external_attr >> 16) & 0o111 else 0o644)


def zip_folder(folder: Path, reader: Identity | None = None) -> bytes:
    """What is inside ``folder`` (paths relative to it), as a zip; empty when it is gone.

    Only ``reader``'s to read (the job's identity; anything when None): Asgard reads as
    root what the job could not, so a file a job could link in but not read is left out."""
    try:
        top: int | None = os.open(folder, DIRECTORY)
    except OSError:  # gone, or made a link: nothing to give
        top = None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if top is not None:
            try:
                _add_folder(archive, top, "", reader, depth=0)
            finally:
                os.close(top)
    return out.getvalue()


def _add_folder(
    archive: zipfile.ZipFile, parent: int, prefix: str, reader: Identity | None, *, depth: int
) -> None:
    """Every entry of the folder open at ``parent``, each opened relative to it without
    following a link: a name swapped for a link after it was listed fails to open."""
    with os.scandir(parent) as listing:
        entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in listing)
    for name, is_dir in entries:
        if is_dir:
            if depth < MAX_DEPTH:
                _add_subfolder(archive, parent, name, prefix + name, reader, depth=depth + 1)
        else:
            _add_file(archive, parent, name, prefix + name, reader)


def _add_subfolder(
    archive: zipfile.ZipFile,
    parent: int,
    name: str,
    relative: str,
    reader: Identity | None,
    *,
    depth: int,
) -> None:
    try:
        fd = os.open(name, DIRECTORY, dir_fd=parent)
    except OSError:  # a link now, or gone, or not a folder any more
        return
    try:
        archive.writestr(zipfile.ZipInfo(relative + "/"), b"")
        _add_folder(archive, fd, relative + "/", reader, depth=depth)
    finally:
        os.close(fd)


def _add_file(
    archive: zipfile.ZipFile, parent: int, name: str, relative: str, reader: Identity | None
) -> None:
    """One regular file, whatever the job put there. It is first opened as a path only (no
    device is opened, no fifo waited on), then for reading by the same name, and kept only
    when both are the same regular file."""
    try:
        path_fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError:
        return
    try:
        seen = os.fstat(path_fd)
    finally:
        os.close(path_fd)
    if not stat.S_ISREG(seen.st_mode) or not _readable(seen, reader):
        return
    try:
        fd = os.open(name, FILE, dir_fd=parent)
    except OSError:  # a link now, or gone
        return
    with os.fdopen(fd, "rb") as handle:
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode) or (found.st_dev, found.st_ino) != (
            seen.st_dev,
            seen.st_ino,
        ):
            return
        info = zipfile.ZipInfo(relative)
        info.external_attr = (stat.S_IMODE(found.st_mode) | stat.S_IFREG) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as into:
            shutil.copyfileobj(handle, into, COPY_CHUNK)


def _readable(found: os.stat_result, reader: Identity | None) -> bool:
    """Whether ``reader`` could read a file of this owner and mode itself."""
    if reader is None:
        return True
    if found.st_uid == reader.uid:
        return bool(found.st_mode & stat.S_IRUSR)
    if found.st_gid == reader.gid or found.st_gid in reader.groups:
        return bool(found.st_mode & stat.S_IRGRP)
    return bool(found.st_mode & stat.S_IROTH)
