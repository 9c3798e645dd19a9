"""A real Podman for the tests: its Docker-compatible service, started and stopped by the
test session, for the docker kind to be pointed at.

Podman runs rootful here, as Debian's podman 4.3 would for an operator, but on storage of
its own: ``CONTAINERS_STORAGE_CONF`` names a ``vfs`` store (graph and run roots) under
one folder, and ``CONTAINERS_CONF`` runs containers with ``runc`` and ``cgroupfs`` (no
systemd) in the host's cgroup namespace, keeps its events in a file, and its temporary
files, volumes and network configuration in the same folder. So it never touches a
Podman already on the machine, and removing the folder removes it all.

The service is ``podman system service`` on a unix socket in that folder, in a network
namespace of its own (as the tests' dockerd): the containers made through its Docker API
get Podman's default bridge network (``podman0``, made by netavark, with its firewall
rules) there, gone with the namespace, and never meet another run's. What the ``podman``
command runs (``netns = "host"``) shares the host's network instead. The test image
is the same busybox root filesystem the dockerd tests import, imported with
``podman import``: no registry needed. The ``podman`` command, given the same two
configuration files, works on the same storage (``cli``), as an operator's would.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.dockerd import (
    DaemonError,
    _kill_processes_of,
    _unmount_under,
    busybox_rootfs_tar,
)
from tests.support.resources import refuse_if_servers_off

__all__ = ["PODMAN_IMAGE", "PodmanService", "start_podman"]

PODMAN_IMAGE = "localhost/asgard-test/busybox:latest"
"""The test image as Podman names it: an imported image belongs to ``localhost``."""
START_TIMEOUT_S = 60
ROOT_PREFIX = "asgpod-"
"""Every service's folder is ``/tmp/asgpod-<random>``: a short path, since the socket's
must fit a unix socket address (108 bytes); a later run finds a killed run's by it."""
STARTING_GRACE_S = 120.0
NPROC_CEILING = 32768
"""``podman`` lowers its own process limit to this when it starts, and a container's
limits may not be higher than those of the runtime that starts it."""


@dataclass
class PodmanService:
    """One ``podman system service`` and the storage it serves."""

    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.root / "p.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
        }

    def cli(self, *args: str, input: bytes | None = None) -> str:
        """``podman`` on the service's storage, as an operator on that host would run it."""
        done = subprocess.run(
            ["podman", *args], capture_output=True, env=self.env, input=input, timeout=120
        )
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()
            raise DaemonError(f"podman {' '.join(args)} failed: {error}")
        return done.stdout.decode()

    def version(self) -> str:
        return self.cli("version", "--format", "{{.Server.Version}}").strip()

    def clean(self) -> None:
        """Remove every container and volume: each test starts from an empty Podman."""
        self.cli("rm", "--all", "--force", "--volumes", "--time", "0")
        self.cli("volume", "rm", "--all", "--force")

    def stop(self) -> None:
        """Remove what the tests left, stop the service, and remove its folder."""
        with contextlib.suppress(DaemonError, subprocess.TimeoutExpired):
            self.clean()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        _kill_processes_of(self.root)  # a container's conmon outlives the service
        _unmount_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _configure(root: Path) -> None:
    """Storage and engine settings of this service alone (see the module's docstring).

    Podman gives a container the highest open-files and processes limits it can; a
    sandboxed root may not raise its own, so the containers get those of this process."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], NPROC_CEILING)
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{root / "run"}"\ngraphroot = "{root / "graph"}"\n'
    )
    (root / "containers.conf").write_text(
        "[containers]\n"
        "init = false\n"
        'netns = "host"\n'
        'cgroupns = "host"\n'
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        f'events_logfile_path = "{root / "events.log"}"\n'
        'runtime = "runc"\n'
        f'tmp_dir = "{root / "tmp"}"\n'
        f'volume_path = "{root / "volumes"}"\n'
        f'image_copy_tmp_dir = "{root / "tmp"}"\n'
        "[network]\n"
        'network_backend = "netavark"\n'
        f'network_config_dir = "{root / "networks"}"\n'
    )


def reap_stale_services() -> None:
    """Undo what a killed test run left: its containers' processes, mounts and folder."""
    for root in Path("/tmp").glob(f"{ROOT_PREFIX}*"):
        if not root.is_dir() or _service_alive(root / "pid"):
            continue
        if time.time() - root.stat().st_mtime < STARTING_GRACE_S:
            continue  # another run's service, still starting: no pid file yet
        _kill_processes_of(root)
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _service_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
        return Path(f"/proc/{pid}/exe").resolve().name == "podman"
    except (OSError, ValueError):
        return False


def start_podman() -> PodmanService:
    """A Podman service of our own, with the test image imported."""
    if shutil.which("podman") is None:
        raise DaemonError("podman is not installed: apt-get install podman (or run make test)")
    refuse_if_servers_off("podman")
    if os.geteuid() != 0:
        raise DaemonError("the tests run Podman rootful, which needs root")
    reap_stale_services()
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir="/tmp"))
    _configure(root)
    with (root / "service.log").open("ab") as log:
        process = subprocess.Popen(
            [
                *["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"],
                *["podman", "system", "service", "--time=0", f"unix://{root / 'p.sock'}"],
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "CONTAINERS_CONF": str(root / "containers.conf"),
                "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
            },
        )
    (root / "pid").write_text(str(process.pid))
    service = PodmanService(root=root, process=process)
    try:
        _wait_ready(service)
        service.cli(
            "import", "--change", "ENV PATH=/bin", "-", PODMAN_IMAGE, input=busybox_rootfs_tar()
        )
    except Exception:
        tail = (root / "service.log").read_text(errors="replace")[-2000:]
        service.stop()
        raise DaemonError(f"podman did not start:\n{tail}") from None
    return service


def _wait_ready(service: PodmanService) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise DaemonError(f"podman system service exited with {service.process.returncode}")
        if service.socket.exists():
            with contextlib.suppress(DaemonError):
                service.cli("--url", service.url, "version")
                return
        time.sleep(0.2)
    raise DaemonError(f"podman did not answer on {service.socket} in {START_TIMEOUT_S} s")
