"""The dashboard's browser files: pinned, unmodified, licensed, and never from a CDN.

The pages load only files Asgard serves itself (the Content-Security-Policy allows no
other origin), so each vendored file must be the one `scripts/refresh-ui-assets.sh`
took from its npm package, and every template must name local paths only. What only the
tests load into a page (axe-core) is vendored the same way beside them, in
``tests/ui/vendor``, and is neither in the package nor served.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import asgard

PACKAGE = Path(asgard.__file__).parent
UI = PACKAGE / "ui"
VENDOR = UI / "static" / "vendor"
TESTS_VENDOR = Path(__file__).parent / "vendor"
PINNED = {
    VENDOR: ("htmx.org-2.0.4", "htmx-ext-sse-2.2.2", "uplot-1.6.31"),
    TESTS_VENDOR: ("axe-core-4.10.2",),
}
"""Per vendor folder, the packages it holds: the pages' own, and what only the tests load."""
EVERY_PACKAGE = [(folder, package) for folder, packages in PINNED.items() for package in packages]
REMOTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def checksums(folder: Path) -> dict[str, str]:
    """The relative path of each vendored file and its SHA-256, as the script wrote them."""
    listed: dict[str, str] = {}
    for line in (folder / "CHECKSUMS.sha256").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        listed[path.lstrip("*")] = digest
    return listed


def label(folder: Path) -> str:
    return "package" if folder == VENDOR else "tests"


@pytest.mark.parametrize("folder", list(PINNED), ids=label)
def test_every_vendored_file_matches_its_checksum(folder: Path) -> None:
    listed = checksums(folder)
    on_disk = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != "CHECKSUMS.sha256"
    }
    assert on_disk == set(listed), "files and CHECKSUMS.sha256 differ: run the refresh script"
    for path, digest in listed.items():
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == digest, path


@pytest.mark.parametrize(("folder", "package"), EVERY_PACKAGE, ids=[p for _, p in EVERY_PACKAGE])
def test_every_pinned_package_is_vendored_with_its_licence(folder: Path, package: str) -> None:
    vendored = folder / package
    assert vendored.is_dir(), f"{package} is not vendored"
    licences = [p for p in vendored.iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE"))]
    assert licences, f"{package} has no licence file"
    assert all(p.stat().st_size > 0 for p in licences)
    assert any(p.suffix in (".js", ".css") for p in vendored.iterdir())


@pytest.mark.parametrize("folder", list(PINNED), ids=label)
def test_no_package_is_vendored_without_being_pinned(folder: Path) -> None:
    folders = {p.name for p in folder.iterdir() if p.is_dir()}
    assert folders == set(PINNED[folder])


def test_what_only_the_tests_load_is_neither_shipped_nor_served() -> None:
    """Every file under the package is shipped, and ``/ui/static/`` serves its folder."""
    shipped = {p.name for p in PACKAGE.rglob("*") if p.is_file()}
    for package in PINNED[TESTS_VENDOR]:
        for path in (TESTS_VENDOR / package).iterdir():
            if path.suffix == ".js":
                assert path.name not in shipped, f"{package}'s {path.name} is in the package"


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
