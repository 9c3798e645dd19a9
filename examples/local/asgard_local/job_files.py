"""A job's files on the host: the input zip unpacked into its ``input/`` folder, and what
it left in ``output/`` zipped for ``job_output``.

The zip a user sends names the paths it unpacks to, and the folder a job wrote is the
job's to shape, so neither is trusted: entries that would land outside the folder are
dropped, and only regular files are zipped back, never a symlink (a job could point one
at any file Asgard's user may read).
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import zipfile
from pathlib import Path

from asgard.errors import InvalidValue

__all__ = ["unpack_input", "zip_folder"]


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


def zip_folder(folder: Path) -> bytes:
    """What is inside ``folder`` (paths relative to it), as a zip; empty when it is gone."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for top, dirs, files in os.walk(folder):
            here = Path(top)
            dirs.sort()
            for name in dirs:
                if not (here / name).is_symlink():
                    relative = (here / name).relative_to(folder).as_posix()
                    archive.writestr(zipfile.ZipInfo(relative + "/"), b"")
            for name in sorted(files):
                _add_file(archive, here / name, (here / name).relative_to(folder).as_posix())
    return out.getvalue()


def _add_file(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    """One regular file, opened without following a symlink: whatever the job put there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # a symlink, or gone
        return
    with os.fdopen(fd, "rb") as handle:
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode):
            return
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IMODE(found.st_mode) | stat.S_IFREG) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, handle.read())
