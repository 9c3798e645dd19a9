"""A job's output is zipped by Asgard, as root, from a folder the job (or an app of its
account) may still change: no link is followed at any level, before or during zipping,
so nothing Asgard may read and the job may not (Asgard's data, ``/``, a root-only file)
ever reaches the zip."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from local_support import DEV, Running, running_cluster
from test_security import app_said, ended, needs_isolation

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.models import AppSpec, JobSpec

pytestmark = [
    needs_isolation,
    pytest.mark.skipif(os.geteuid() != 0, reason="Asgard reads outputs as root here"),
]

SECRET = "root-only-words-never-in-a-zip"
RACE_S = 30.0
RACE_MIN_S = 3.0
"""How long outputs are zipped while the app swaps, at least."""


def secrets_in(base: Path) -> dict[str, Path]:
    """A root-only folder and Asgard's data folder, each with a root-only secret."""
    hidden = base / "hidden"
    data = base / "data"
    for folder in (hidden, data):
        folder.mkdir(mode=0o700, exist_ok=True)
        (folder / "dev-secret-key").write_text(SECRET)
        (folder / "dev-secret-key").chmod(0o600)
    return {"file": hidden / "dev-secret-key", "folder": hidden, "data": data, "root": Path("/")}


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def job_with_output(running: Running, script: str) -> str:
    job = JobSpec(cluster="local", name="links", image="host", command=["sh", "-c", script])
    created = await running.call(DEV, JobsBackend.create_job, job, None)
    assert (await ended(running, created.id)).status.state == "succeeded"
    return created.id


@pytest.mark.parametrize("run_as", [None, "root"], ids=["own-uid", "as-root"])
async def test_links_a_job_leaves_in_its_output_are_never_followed(
    tmp_path: Path, run_as: str | None
) -> None:
    targets = secrets_in(tmp_path)
    script = "; ".join(
        [
            "set -e",
            "mkdir -p /output/real/inner",
            "echo ok > /output/real/f",
            "echo deep > /output/real/inner/g",
            f"ln -s {targets['file']} /output/key",
            f"ln -s {targets['folder']} /output/hidden",
            f"ln -s {targets['data']} /output/data",
            "ln -s / /output/root",
            f"ln -s {targets['data']} /output/real/inner/data",
            "ln -s ../../.. /output/real/up",
            "mkfifo /output/fifo",
        ]
    )
    async with running_cluster(tmp_path, run_as=run_as) as running:
        job_id = await job_with_output(running, script)
        started = time.monotonic()
        zipped = entries(await running.call(DEV, JobsBackend.job_output, job_id))
        took = time.monotonic() - started
    assert zipped == {
        "real/": b"",
        "real/inner/": b"",
        "real/f": b"ok\n",
        "real/inner/g": b"deep\n",
    }
    assert took < 10, "the fifo was waited on"


@pytest.mark.parametrize("target", ["file", "folder", "data", "root"])
async def test_a_folder_swapped_for_a_link_while_it_is_zipped_gives_nothing_through_it(
    tmp_path: Path, target: str
) -> None:
    """An app of the job's account swaps the output's folder ``d`` (and its file ``f``)
    for links, again and again, while Asgard zips the output: every zip holds either the
    real files or nothing of them, never what a link points at. Run as root, so only the
    way the output is read keeps the secret out."""
    pointed = secrets_in(tmp_path)[target]
    async with running_cluster(tmp_path, run_as="root") as running:
        job_id = await job_with_output(
            running, "mkdir /output/d && echo ok > /output/d/f && echo more > /output/d/g"
        )
        output = running.state_dir / "jobs" / "dev" / job_id / "output"
        swapper = (
            f"cd {output}; echo swapping; while :; do "
            f"mv d/f d/f.x; ln -s {pointed} d/f; rm -f d/f; mv d/f.x d/f; "
            f"mv d d.x; ln -s {pointed} d; rm -f d; mv d.x d; "
            "done 2>/dev/null"
        )
        spec = AppSpec(cluster="local", id="swapper", image="host", cmd=["sh", "-c", swapper])
        await running.call(DEV, AppsBackend.create_app, spec)
        await app_said(running, "swapper", "swapping")
        shapes: set[frozenset[str]] = set()
        started = time.monotonic()
        deadline = started + RACE_S
        while len(shapes) < 2 or time.monotonic() < started + RACE_MIN_S:
            assert time.monotonic() < deadline, f"the swaps were never seen: {shapes}"
            zipped = entries(await running.call(DEV, JobsBackend.job_output, job_id))
            assert not any(SECRET.encode() in v for v in zipped.values()), zipped.keys()
            names = set(zipped)
            assert names <= {"d/", "d/f", "d/g", "d.x/", "d.x/f", "d.x/g", "d/f.x", "d.x/f.x"}
            assert all(v in (b"", b"ok\n", b"more\n") for v in zipped.values())
            shapes.add(frozenset(names))
