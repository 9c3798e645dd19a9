"""Checking a zip that came from outside, before anything unpacks it.

A zip says in its last bytes how many entries it holds, and in its central directory
how large each unpacks; a hostile one lies in neither place without being found out
here. The entry count is read from the end record before the directory is parsed (a
directory of a million entries costs memory to parse); the sizes the directory
declares are summed and each entry's ratio checked before a byte is inflated; then
every entry is inflated once, in chunks, counting what comes out, so that an entry
that inflates past what it declared (``zipfile`` stops at the declared size, and the
checksum then fails) is refused too. The work is blocking: callers run it in a thread.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from asgard.errors import InvalidValue, PayloadTooLarge

__all__ = ["ArchiveLimits", "check_zip_file", "end_record"]

RATIO_FLOOR: Final = 1024 * 1024
"""Entries (and archives) that unpack to less than this are never refused for their ratio:
a small file of zeros compresses a thousandfold and harms nobody."""

DIRECTORY_BYTES_PER_ENTRY: Final = 1024
"""The central directory may take this much per entry allowed: a name of some hundreds of
bytes and its extra fields. A directory larger than that is refused before it is parsed."""

_CHUNK: Final = 1024 * 1024
_EOCD: Final = b"PK\x05\x06"
_EOCD64_LOCATOR: Final = b"PK\x06\x07"
_EOCD64: Final = b"PK\x06\x06"
_TAIL: Final = 22 + 0xFFFF  # the end record, and the longest comment it may carry


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive from outside may hold (the ``max_input_*`` settings)."""

    max_entries: int
    max_unpacked_bytes: int
    max_ratio: float


def _read_at(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def end_record(handle: BinaryIO, field: str = "input") -> tuple[int, int]:
    """The number of entries and the size of the central directory that the zip's end
    record declares (ZIP64 included), without parsing the directory; ``InvalidValue``
    when there is no end record. ``zipfile`` reads no more of the directory than its
    declared size, so bounding it bounds what parsing costs, whatever the count says."""
    end = handle.seek(0, 2)
    start = max(0, end - _TAIL)
    tail = _read_at(handle, start, end - start)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise InvalidValue("is not a zip file", field=field)
    count, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if count != 0xFFFF and directory != 0xFFFFFFFF:
        return int(count), int(directory)
    if at < 20 or tail[at - 20 : at - 16] != _EOCD64_LOCATOR:
        return int(count), int(directory)
    (record_at,) = struct.unpack("<Q", tail[at - 12 : at - 4])
    record = _read_at(handle, record_at, 56)
    if len(record) < 56 or not record.startswith(_EOCD64):
        raise InvalidValue("is a damaged zip (its ZIP64 end record is missing)", field=field)
    count64, directory64 = struct.unpack("<QQ", record[32:48])
    return int(count64), int(directory64)


def _check_end(handle: BinaryIO, limits: ArchiveLimits, field: str) -> None:
    count, directory = end_record(handle, field)
    if count > limits.max_entries:
        raise PayloadTooLarge(
            f"the input holds {count} entries, over the limit of {limits.max_entries}"
        )
    if directory > limits.max_entries * DIRECTORY_BYTES_PER_ENTRY:
        raise PayloadTooLarge(
            f"the input's directory is {directory} bytes, over the limit of "
            f"{limits.max_entries * DIRECTORY_BYTES_PER_ENTRY} ({DIRECTORY_BYTES_PER_ENTRY} "
            "bytes an entry)"
        )


def _path_problem(entry: zipfile.ZipInfo) -> str | None:
    """Why an entry may not be unpacked under a folder, or None: a path that leaves it,
    a link (whose target could leave it) or a device, pipe or socket."""
    name = entry.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(parts[0]) == 2 and parts[0][1] == ":"):
        return f"holds an absolute path: {name}"
    if ".." in parts:
        return f"holds a path that leaves its folder: {name}"
    if any(ord(c) < 32 for c in name):
        return f"holds a path with a control character: {name!r}"
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"holds a link, which is not accepted: {name}"
    kind = stat.S_IFMT(mode)
    if kind and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"holds a device, pipe or socket, which is not accepted: {name}"
    return None


def _check_declared(
    entries: list[zipfile.ZipInfo], size: int, limits: ArchiveLimits, field: str
) -> None:
    """The checks the central directory allows before anything is inflated."""
    declared = 0
    for entry in entries:
        problem = _path_problem(entry)
        if problem is not None:
            raise InvalidValue(problem, field=field)
        declared += entry.file_size
        if declared > limits.max_unpacked_bytes:
            raise PayloadTooLarge(
                f"the input unpacks to more than the limit of {limits.max_unpacked_bytes} bytes"
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
            raise InvalidValue(
                f"entry {entry.filename} compresses {ratio:.0f} to 1, over the limit of "
                f"{limits.max_ratio:g} to 1",
                field=field,
            )
    if declared > RATIO_FLOOR and declared / max(size, 1) > limits.max_ratio:
        raise InvalidValue(
            f"the input compresses {declared / max(size, 1):.0f} to 1, over the limit of "
            f"{limits.max_ratio:g} to 1",
            field=field,
        )


def _inflate_all(archive: zipfile.ZipFile, limits: ArchiveLimits) -> None:
    """Inflate every entry once, in chunks, counting: the declared sizes are not trusted."""
    total = 0
    for entry in archive.infolist():
        if entry.is_dir():
            continue
        with archive.open(entry) as member:
            while chunk := member.read(_CHUNK):
                total += len(chunk)
                if total > limits.max_unpacked_bytes:
                    raise PayloadTooLarge(
                        "the input unpacks to more than the limit of "
                        f"{limits.max_unpacked_bytes} bytes"
                    )


def check_zip_file(path: Path, limits: ArchiveLimits, field: str = "input") -> None:
    """Refuse (413 ``PayloadTooLarge`` for too many entries or bytes, 422 ``InvalidValue``
    for anything else) a zip that is damaged, too large unpacked, too compressed, or
    holds a path, link or special file that could reach outside its folder."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            _check_end(handle, limits, field)
            with zipfile.ZipFile(handle) as archive:
                entries = archive.infolist()
                if len(entries) > limits.max_entries:
                    raise PayloadTooLarge(
                        f"the input holds more than the limit of {limits.max_entries} entries"
                    )
                _check_declared(entries, size, limits, field)
                _inflate_all(archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as exc:
        raise InvalidValue(f"is a damaged zip ({exc})", field=field) from None
    except NotImplementedError as exc:  # a compression method zipfile does not know
        raise InvalidValue(f"uses a compression Asgard cannot read ({exc})", field=field) from None
