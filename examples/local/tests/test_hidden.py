"""Asgard's own files are hidden from jobs: its data folder (the development signing key,
the first administrator's key), its SQLite database's folder and its clusters file's
folder, the state folder, and what a cluster entry adds (``hide``). Checked as the
account's uid and as root (``run_as = "root"``), where only the mount namespace keeps
them out."""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from asgard_local.isolation import HOST_FOLDERS, hidden_paths
from local_support import DEV, running_cluster
from test_security import ended, needs_isolation, needs_root

from asgard.backends.contract import JobsBackend
from asgard.models import JobSpec

SECRET = "asgard-own-file-never-seen-by-a-job"


def asgards_files(base: Path) -> dict[str, Path]:
    """What Asgard keeps, each holding the secret, readable by everyone (0644 in 0755
    folders): only hiding keeps a job from them."""
    base.chmod(0o755)
    files = {
        "signing-key": base / "data" / "dev-secret-key",
        "admin-key": base / "data" / "first-admin-key",
        "database": base / "db" / "asgard.db",
        "wal": base / "db" / "asgard.db-wal",
        "clusters": base / "conf" / "clusters.toml",
        "beside-clusters": base / "conf" / "kube.key",
        "extra": base / "keys" / "other.key",
    }
    for path in files.values():
        path.parent.mkdir(mode=0o755, exist_ok=True)
        path.write_text(SECRET)
        path.chmod(0o644)
    return files


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist() if not n.endswith("/")}


@needs_isolation
@needs_root
@pytest.mark.parametrize("run_as", [None, "root"], ids=["own-uid", "as-root"])
async def test_a_job_cannot_read_asgards_files(run_as: str | None) -> None:
    """Outside /tmp, which a job has its own of."""
    base = Path(tempfile.mkdtemp(prefix="asgard-local-test-", dir="/var/tmp"))
    files = await asyncio.to_thread(asgards_files, base)
    script = "; ".join(
        [f"cat {path} > /output/{name} 2>/dev/null || true" for name, path in files.items()]
        + [
            f"ls -A {files[name].parent} > /output/ls-{name} 2>/dev/null || true"
            for name in ("signing-key", "database", "clusters", "extra")
        ]
        + ["echo ran > /output/ran"]
    )
    try:
        async with running_cluster(
            base,
            private_paths=(files["database"], files["clusters"]),
            run_as=run_as,
            hide=[files["extra"].parent],
        ) as running:
            job = JobSpec(cluster="local", name="peek", image="host", command=["sh", "-c", script])
            created = await running.call(DEV, JobsBackend.create_job, job, None)
            assert (await ended(running, created.id)).status.state == "succeeded"
            output = unzip(await running.call(DEV, JobsBackend.job_output, created.id))
    finally:
        await asyncio.to_thread(shutil.rmtree, base)
    assert output.pop("ran") == "ran\n"
    assert set(output.values()) == {""}, output


def test_a_files_folder_is_hidden_unless_the_host_needs_it(tmp_path: Path) -> None:
    database = tmp_path / "db" / "asgard.db"
    found = hidden_paths([tmp_path / "state"], [database, Path("/etc/asgard.toml")])
    assert found[0] == str(tmp_path / "state")
    assert {str(database), f"{database}-wal", str(database.parent)} <= set(found)
    assert "/etc/asgard.toml" in found
    assert not HOST_FOLDERS & set(found), "a folder the host's programs need was hidden"
