"""The checks a job's input zip passes before anything unpacks it: each rule refused with
its status (413 for too much, 422 for a bad archive) and a message naming what was wrong."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from asgard.errors import InvalidValue, PayloadTooLarge
from asgard.zip_checks import ArchiveLimits, check_zip_file, end_record

LIMITS = ArchiveLimits(max_entries=10, max_unpacked_bytes=4 * 1024 * 1024, max_ratio=50)


def a_zip(path: Path, entries: dict[str, bytes], modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            archive.writestr(info, data)
    return path


def test_a_plain_zip_passes(tmp_path: Path) -> None:
    path = a_zip(tmp_path / "ok.zip", {"a/b.txt": b"hello", "c/": b"", "d.bin": bytes(1000)})
    check_zip_file(path, LIMITS)


@pytest.mark.parametrize(
    ("name", "mode", "says"),
    [
        ("/etc/passwd", None, "holds an absolute path: /etc/passwd"),
        ("C:/x.txt", None, "holds an absolute path: C:/x.txt"),
        ("a/../../x.txt", None, "holds a path that leaves its folder: a/../../x.txt"),
        ("..\\x.txt", None, "holds a path that leaves its folder: ..\\x.txt"),
        ("bad\nname", None, "holds a path with a control character: 'bad\\nname'"),
        ("link", stat.S_IFLNK | 0o777, "holds a link, which is not accepted: link"),
        ("dev", stat.S_IFCHR | 0o600, "holds a device, pipe or socket, which is not accepted: dev"),
        (
            "fifo",
            stat.S_IFIFO | 0o600,
            "holds a device, pipe or socket, which is not accepted: fifo",
        ),
    ],
)
def test_paths_links_and_devices_are_422(
    tmp_path: Path, name: str, mode: int | None, says: str
) -> None:
    path = a_zip(tmp_path / "bad.zip", {name: b"x"}, {name: mode} if mode else None)
    with pytest.raises(InvalidValue) as refused:
        check_zip_file(path, LIMITS)
    assert refused.value.msg == says
    assert refused.value.details[0].field == "input"


def test_too_many_entries_is_413_before_the_directory_is_read(tmp_path: Path) -> None:
    path = a_zip(tmp_path / "many.zip", {f"f{i}": b"" for i in range(11)})
    with path.open("rb") as handle:
        assert end_record(handle)[0] == 11
    with pytest.raises(PayloadTooLarge) as refused:
        check_zip_file(path, LIMITS)
    assert refused.value.msg == "the input holds 11 entries, over the limit of 10"


def test_too_much_unpacked_is_413(tmp_path: Path) -> None:
    path = a_zip(tmp_path / "big.zip", {"a": b"x" * (3 * 1024 * 1024), "b": b"y" * 2 * 1024 * 1024})
    with pytest.raises(PayloadTooLarge) as refused:
        check_zip_file(path, ArchiveLimits(10, 4 * 1024 * 1024, 10_000))
    assert (
        refused.value.msg == f"the input unpacks to more than the limit of {4 * 1024 * 1024} bytes"
    )


def test_a_ratio_over_the_limit_is_422_and_small_entries_never_are(tmp_path: Path) -> None:
    small = a_zip(tmp_path / "small.zip", {"zeros": bytes(512 * 1024)})
    check_zip_file(small, LIMITS)  # 500:1, but under a MiB: harmless
    dense = a_zip(tmp_path / "dense.zip", {"zeros": bytes(3 * 1024 * 1024)})
    with pytest.raises(InvalidValue) as refused:
        check_zip_file(dense, LIMITS)
    assert refused.value.msg.startswith("entry zeros compresses ")
    assert refused.value.msg.endswith(" to 1, over the limit of 50 to 1")


def _lie_about_size(path: Path, name: str, declared: int) -> None:
    """Rewrite the sizes an entry declares (local header and central directory), as a
    hostile zip would, leaving its data as it is."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    local = info.header_offset
    struct.pack_into("<I", data, local + 22, declared)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_an_entry_that_inflates_past_what_it_declares_is_422(tmp_path: Path) -> None:
    path = a_zip(tmp_path / "liar.zip", {"zeros": bytes(3 * 1024 * 1024)})
    _lie_about_size(path, "zeros", 1000)
    with pytest.raises(InvalidValue) as refused:
        check_zip_file(path, LIMITS)
    assert refused.value.msg.startswith("is a damaged zip (")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_what_is_not_a_zip_is_422(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not.zip"
    path.write_bytes(content)
    with pytest.raises(InvalidValue) as refused:
        check_zip_file(path, LIMITS)
    assert refused.value.msg == "is not a zip file"


def _lie_about_count(path: Path, count: int) -> None:
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, count, count)
    path.write_bytes(bytes(data))


def test_a_directory_larger_than_its_entries_allow_is_413_whatever_the_count_says(
    tmp_path: Path,
) -> None:
    """A zip whose end record says 1 entry, over a directory of thousands: refused by the
    directory's size, before ``zipfile`` would make an object of every entry."""
    path = a_zip(tmp_path / "liar.zip", {f"f{i}": b"" for i in range(400)})
    _lie_about_count(path, 1)
    with path.open("rb") as handle:
        count, directory = end_record(handle)
    assert count == 1
    assert directory > 10 * 1024
    with pytest.raises(PayloadTooLarge) as refused:
        check_zip_file(path, LIMITS)
    assert refused.value.msg == (
        f"the input's directory is {directory} bytes, over the limit of 10240 (1024 bytes an entry)"
    )
