"""What a local cluster keeps on disk, and where: its state folder is its whole memory.

    <state_dir>/lock                              held by the Asgard process supervising it
    <state_dir>/attributes.json                   more attributes of the host agent
    <state_dir>/uids.json                         the uid each namespace runs as (root only)
    <state_dir>/apps/<ns>/<app key>/app.json      an app's definition (``AppRecord``)
    <state_dir>/apps/<ns>/<app key>/instances/<slot>/{home/,log,pid.json}
    <state_dir>/jobs/<ns>/<job id>/{job.json,status.json,log,pid.json,input/,output/,...}
    <state_dir>/workspaces/<ns>/<workflow>/       the folders a workflow's stages share

Everything is written to a temporary file and renamed into place, so a crash never
leaves half a record; records are readable by Asgard's user only, since they hold the
environments users gave, which may carry secrets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from asgard.errors import InvalidValue
from asgard.models import AppSpec, JobSpec, JobStatus

__all__ = [
    "AppRecord",
    "JobRecord",
    "MountRecord",
    "PidRecord",
    "SpecRecord",
    "Store",
    "app_key",
    "pass_through",
    "read_record",
    "safe_name",
    "write_record",
    "write_text",
]

M = TypeVar("M", bound=BaseModel)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
PRIVATE = 0o600
PASS_THROUGH = 0o711
"""Asgard's folders: the processes of an account pass through them to reach their own
folder by its path, and list nothing."""


class SpecRecord(BaseModel):
    """One spec an app ran: its number (1 for the first), and since when."""

    number: int
    spec: AppSpec
    deployed_at: datetime


class AppRecord(BaseModel):
    """An app as it was asked for: kept while it is suspended, relaunched at start, with
    the specs it ran before (newest last, ``SPECS_KEPT`` of them)."""

    namespace: str
    spec: AppSpec
    created_at: datetime
    updated_at: datetime
    history: list[SpecRecord] = []
    """Empty in records written before versions were kept: the spec is then the only one."""


class MountRecord(BaseModel):
    """A workflow stage's folders in its workflow's workspace."""

    workspace: str
    input_dir: str | None
    output_dir: str


class JobRecord(BaseModel):
    namespace: str
    id: str
    spec: JobSpec
    created_at: datetime
    mount: MountRecord | None = None
    isolated: bool = False
    """Whether it runs with its own /input and /output (``asgard_local.isolation``)."""


class PidRecord(BaseModel):
    """A process group this cluster started, to end it should Asgard stop without doing
    so. The start time tells the process from a later one that got the same pid."""

    pid: int
    start_ticks: int


def app_key(app_id: str) -> str:
    """A folder name for an app id: ``team/api`` -> ``team.api``. App ids are DNS labels
    joined by '/', and labels hold no dots, so the name says which app it is."""
    return app_id.replace("/", ".")


def safe_name(value: str, field: str) -> str:
    """A name that becomes a folder: checked again here, whoever validated it before."""
    if not _SAFE.match(value) or value in (".", ".."):
        raise InvalidValue(f"not a usable folder name: {value!r}", field=field)
    return value


def pass_through(folder: Path) -> Path:
    """``folder`` and its missing parents, made as Asgard's folders (``PASS_THROUGH``)."""
    if not folder.is_dir():
        pass_through(folder.parent)
        folder.mkdir(mode=PASS_THROUGH, exist_ok=True)
        folder.chmod(PASS_THROUGH)  # mkdir's mode is cut by the umask
    return folder


def write_text(path: Path, text: str, mode: int = PRIVATE) -> None:
    """``text`` in ``path``, whole or not at all: written aside, then renamed into place."""
    pass_through(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_record(path: Path, record: BaseModel) -> None:
    write_text(path, record.model_dump_json())


def read_record(path: Path, model: type[M]) -> M | None:
    """The record, or None when it is missing or unreadable (a folder being removed)."""
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, json.JSONDecodeError):
        return None


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock_file = root / "lock"
        self.attributes_file = root / "attributes.json"
        self.uids_file = root / "uids.json"

    def tighten(self) -> None:
        """The state folder and the folders of its namespaces made ``PASS_THROUGH``, as
        this version makes them, whatever an earlier one did."""
        pass_through(self.root).chmod(PASS_THROUGH)
        for part in ("apps", "jobs", "workspaces"):
            top = pass_through(self.root / part)
            top.chmod(PASS_THROUGH)
            for namespace in top.iterdir():
                if namespace.is_dir() and not namespace.is_symlink():
                    namespace.chmod(PASS_THROUGH)

    # apps

    def app_dir(self, namespace: str, app_id: str) -> Path:
        return self.root / "apps" / safe_name(namespace, "namespace") / app_key(app_id)

    def instance_dir(self, namespace: str, app_id: str, slot: str) -> Path:
        return self.app_dir(namespace, app_id) / "instances" / slot

    def save_app(self, record: AppRecord) -> None:
        write_record(self.app_dir(record.namespace, record.spec.id) / "app.json", record)

    def apps(self) -> list[AppRecord]:
        """Every app of every namespace: what start() relaunches."""
        found = []
        for path in sorted((self.root / "apps").glob("*/*/app.json")):
            record = read_record(path, AppRecord)
            if record is not None:
                found.append(record)
        return found

    def remove_app(self, namespace: str, app_id: str) -> None:
        shutil.rmtree(self.app_dir(namespace, app_id), ignore_errors=True)

    # jobs

    def job_dir(self, namespace: str, job_id: str) -> Path:
        return self.root / "jobs" / safe_name(namespace, "namespace") / safe_name(job_id, "id")

    def save_job(self, record: JobRecord) -> None:
        write_record(self.job_dir(record.namespace, record.id) / "job.json", record)

    def job(self, namespace: str, job_id: str) -> JobRecord | None:
        try:
            folder = self.job_dir(namespace, job_id)
        except InvalidValue:  # not an id this cluster could have made
            return None
        return read_record(folder / "job.json", JobRecord)

    def save_status(self, namespace: str, job_id: str, status: JobStatus) -> None:
        write_record(self.job_dir(namespace, job_id) / "status.json", status)

    def status(self, namespace: str, job_id: str) -> JobStatus | None:
        return read_record(self.job_dir(namespace, job_id) / "status.json", JobStatus)

    def job_ids(self, namespace: str) -> list[str]:
        folder = self.root / "jobs" / safe_name(namespace, "namespace")
        return sorted(p.parent.name for p in folder.glob("*/job.json"))

    def jobs(self) -> list[JobRecord]:
        found = []
        for path in sorted((self.root / "jobs").glob("*/*/job.json")):
            record = read_record(path, JobRecord)
            if record is not None:
                found.append(record)
        return found

    def remove_job(self, namespace: str, job_id: str) -> None:
        shutil.rmtree(self.job_dir(namespace, job_id), ignore_errors=True)

    # workspaces

    def workspace_dir(self, namespace: str, name: str) -> Path:
        return (
            self.root
            / "workspaces"
            / safe_name(namespace, "namespace")
            / safe_name(name, "workspace")
        )

    # processes left by an Asgard that stopped

    def pid_files(self) -> list[Path]:
        return sorted(
            [
                *(self.root / "apps").glob("*/*/instances/*/pid.json"),
                *(self.root / "jobs").glob("*/*/pid.json"),
            ]
        )
