"""The dashboard's browser files: pinned, unmodified, licensed, and never from a CDN.

The pages load only files Asgard serves itself (the Content-Security-Policy allows no
other origin), so each vendored file must be the one `scripts/refresh-ui-assets.sh`
took from its npm package, and every template must name local paths only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import asgard

UI = Path(asgard.__file__).parent / "ui"
VENDOR = UI / "static" / "vendor"
CHECKSUMS = VENDOR / "CHECKSUMS.sha256"
PINNED = ("htmx.org-2.0.4", "htmx-ext-sse-2.2.2", "uplot-1.6.31", "axe-core-4.10.2")
REMOTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def checksums() -> dict[str, str]:
    """The relative path of each vendored file and its SHA-256, as the script wrote them."""
    listed: dict[str, str] = {}
    for line in CHECKSUMS.read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        listed[path.lstrip("*")] = digest
    return listed


def test_every_vendored_file_matches_its_checksum() -> None:
    listed = checksums()
    on_disk = {
        str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p != CHECKSUMS
    }
    assert on_disk == set(listed), "files and CHECKSUMS.sha256 differ: run the refresh script"
    for path, digest in listed.items():
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == digest, path


@pytest.mark.parametrize("package", PINNED)
def test_every_pinned_package_is_vendored_with_its_licence(package: str) -> None:
    folder = VENDOR / package
    assert folder.is_dir(), f"{package} is not vendored"
    licences = [p for p in folder.iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE"))]
    assert licences, f"{package} has no licence file"
    assert all(p.stat().st_size > 0 for p in licences)
    assert any(p.suffix in (".js", ".css") for p in folder.iterdir())


def test_no_package_is_vendored_without_being_pinned() -> None:
    folders = {p.name for p in VENDOR.iterdir() if p.is_dir()}
    assert folders == set(PINNED)


def test_no_template_loads_anything_from_another_origin() -> None:
    templates = sorted((UI / "templates").rglob("*.html"))
    assert templates, "no templates found"
    for template in templates:
        text = template.read_text()
        found = REMOTE.findall(text)
        assert not found, f"{template.name} names another origin: {found}"


def test_the_dashboards_own_scripts_name_no_other_origin() -> None:
    scripts = sorted((UI / "static").glob("*.js"))
    assert {p.name for p in scripts} >= {"asgard.js", "asgard-logs.js", "asgard-graph.js"}
    for script in scripts:
        assert not REMOTE.findall(script.read_text()), script.name
