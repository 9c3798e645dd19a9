"""A real Podman for the tests: its Docker-compatible service, started and stopped by the
test session, for the docker kind to be pointed at.

Podman runs rootful here, as Debian's podman 4.3 would for an operator, but on storage of
its own: ``CONTAINERS_STORAGE_CONF`` names a ``vfs`` store (graph and run roots) under
one folder, and ``CONTAINERS_CONF`` keeps its containers in the host's network and cgroup
namespaces with ``runc`` and ``cgroupfs`` (no systemd, no network setup of its own), its
events in a file, and its temporary files, volumes and networks in the same folder. So it
never touches a Podman already on the machine, and removing the folder removes it all.

The service is ``podman system service`` on a unix socket in that folder; the test image
is the same busybox root filesystem the dockerd tests import, imported with
``podman import``: no registry needed. The ``podman`` command, given the same two
configuration files, works on the same storage (``cli``), as an operator's would.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
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


def _network(root: Path) -> str:
    """A bridge network of this service's own, its default: Podman's own default
    (``podman0``, 10.88.0.0/16) would be shared by every Podman on the machine, each
    handing out the same addresses. A /24 of 10.89 no interface uses, its bridge named
    after the folder; netavark makes it for the first container and removes it with the
    last one."""
    taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    free = [n for n in range(10, 250) if f" 10.89.{n}." not in taken]
    subnet = random.choice(free)
    name = root.name
    (root / "networks").mkdir()
    (root / "networks" / f"{name}.json").write_text(
        json.dumps(
            {
                "name": name,
                "id": hashlib.sha256(name.encode()).hexdigest(),
                "driver": "bridge",
                "network_interface": f"asp{name.removeprefix(ROOT_PREFIX)}"[:15],
                "created": "2026-01-01T00:00:00Z",
                "subnets": [{"subnet": f"10.89.{subnet}.0/24", "gateway": f"10.89.{subnet}.1"}],
                "ipv6_enabled": False,
                "internal": False,
                "dns_enabled": False,
                "ipam_options": {"driver": "host-local"},
            }
        )
    )
    return name


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
        f'default_network = "{_network(root)}"\n'
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
    if os.geteuid() != 0:
        raise DaemonError("the tests run Podman rootful, which needs root")
    reap_stale_services()
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir="/tmp"))
    _configure(root)
    with (root / "service.log").open("ab") as log:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{root / 'p.sock'}"],
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
