"""Real Docker Engines for the tests, started and stopped by the test session.

Each daemon gets its own data and exec roots, its own socket, and a network
namespace of its own holding its bridge (and, for a Swarm, its ``docker_gwbridge``
and ingress network). So it never collides with a dockerd already running on the
machine, nor with the other daemons of this run (one per pytest-xdist worker) or of
another: Swarms in the host's network would share ``docker_gwbridge``, and two engines
publishing one port would fight over it. The tests reach a daemon through its socket
alone. Its image is made from busybox with ``docker import``: no registry needed.
The engine daemon reads a config file, so tests can change its labels (the
agent's attributes) and have it reload them with SIGHUP.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tests.support.lifetime import die_with_parent
from tests.support.resources import refuse_if_servers_off

TEST_IMAGE = "asgard-test/busybox:latest"
SERVE_FOREVER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
"""A long-running command that stops at once on SIGTERM (a bare ``sleep`` as PID 1 ignores it)."""
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
START_TIMEOUT_S = 60


TASK_CONTAINERS: Final = "/containers/json?all=1&filters=" + urllib.parse.quote(
    json.dumps({"label": ["com.docker.swarm.task"]})
)
"""Every container of a Swarm task, running or not."""


class DaemonError(RuntimeError):
    pass


def _run(*args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
    done = subprocess.run(args, capture_output=True, env=env, input=input, timeout=120, check=False)
    if done.returncode != 0:
        raise DaemonError(
            f"{' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout.decode()


def busybox_rootfs_tar() -> bytes:
    """A root filesystem holding busybox and one link per applet, as a tar stream."""
    busybox = next((Path(p) for p in BUSYBOX_PATHS if Path(p).is_file()), None)
    if busybox is None:
        raise DaemonError("busybox is not installed: apt-get install busybox-static")
    applets = _run(str(busybox), "--list").split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "tmp", "etc"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(busybox), arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buffer.getvalue()


TASK_ENDED = frozenset({"complete", "shutdown", "failed", "rejected", "orphaned", "remove"})
"""A Swarm task's states after which its agent starts nothing for it."""


@dataclass
class DockerDaemon:
    name: str
    root: Path
    bridge: str
    process: subprocess.Popen[bytes]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.root / "d.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def config_file(self) -> Path:
        return self.root / "daemon.json"

    def cli(self, *args: str, input: bytes | None = None) -> str:
        env = {**os.environ, "DOCKER_HOST": self.url}
        return _run("docker", *args, env=env, input=input)

    def set_labels(self, labels: dict[str, str]) -> None:
        """Change the engine's labels (its agent attributes) and have it reload them."""
        self.labels = dict(labels)
        self.config_file.write_text(json.dumps({"labels": [f"{k}={v}" for k, v in labels.items()]}))
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        wanted = sorted(f"{k}={v}" for k, v in labels.items())
        while time.monotonic() < deadline:
            info = json.loads(self.cli("info", "--format", "{{json .Labels}}") or "null") or []
            if sorted(info) == wanted:
                return
            time.sleep(0.1)
        raise DaemonError(f"dockerd {self.name} did not reload its labels")

    def clean(self) -> None:
        """Remove every service, container and volume: each test starts from an empty engine."""
        if self.is_swarm():
            services = self.cli("service", "ls", "-q").split()
            if services:
                self.cli("service", "rm", *services)
                self._swarm_tasks_gone()
        containers = self.cli("ps", "-aq").split()
        if containers:
            self.cli("rm", "-f", "-v", *containers)
        self._remove_volumes()

    def _swarm_tasks_gone(self) -> None:
        """After its services are removed, until the Swarm has no task left that has not
        ended: a task still being prepared can get its container a moment after its
        service went (seen 0.2 s after ``service rm``), and none comes for a task its agent
        has reported ended (the Swarm may keep such a task a while, a job's above all).
        Task containers are removed as they show (the test image's ``sleep`` ignores
        SIGTERM: the Swarm would wait 10 s for it)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = [t for t in self.api("/tasks") if t["Status"]["State"] not in TASK_ENDED]
            containers = [c["Id"] for c in self.api(TASK_CONTAINERS)]  # no CLI process a poll
            if containers:
                with contextlib.suppress(DaemonError):  # the Swarm may remove them too
                    self.cli("rm", "-f", "-v", *containers)
            elif not live:
                return
            time.sleep(0.1)
        states = sorted(t["Status"]["State"] for t in live)
        raise DaemonError(f"the Swarm of {self.name} kept tasks of removed services: {states}")

    def api(self, path: str) -> Any:
        """``GET`` on the Engine API, over the daemon's socket: what the CLI does not show
        (the tasks of services already removed)."""
        with contextlib.closing(socket.socket(socket.AF_UNIX)) as connection:
            connection.settimeout(10)
            connection.connect(str(self.socket))
            request = f"GET /v1.41{path} HTTP/1.0\r\nHost: engine\r\n\r\n"
            connection.sendall(request.encode())
            answer = b"".join(iter(lambda: connection.recv(65536), b""))
        head, _, body = answer.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or head.split()[1] != b"200":
            raise DaemonError(f"GET {path} on {self.name}: {head[:200]!r}")
        return json.loads(body)

    def _remove_volumes(self) -> None:
        """Every volume; one a container still holds (a Swarm agent can create a task's
        container after its service is gone) goes once that container is removed too."""
        deadline = time.monotonic() + 30
        while volumes := self.cli("volume", "ls", "-q").split():
            try:
                self.cli("volume", "rm", "-f", *volumes)
                return
            except DaemonError:
                if time.monotonic() > deadline:
                    raise
            containers = self.cli("ps", "-aq").split()
            if containers:
                with contextlib.suppress(DaemonError):
                    self.cli("rm", "-f", "-v", *containers)
            time.sleep(0.2)

    def is_swarm(self) -> bool:
        return self.cli("info", "--format", "{{.Swarm.LocalNodeState}}").strip() == "active"

    def halt(self) -> None:
        """Stop the daemon as an operator would (SIGTERM), keeping everything it holds."""
        self.process.terminate()
        self.process.wait(timeout=60)

    def resume(self) -> None:
        """Start the halted daemon again on the same socket and data: its containers with a
        restart policy come back, as after a host's dockerd restart."""
        self.process = _launch(self.root, self.bridge)
        _wait_ready(self)

    def stop(self) -> None:
        with contextlib.suppress(DaemonError, subprocess.TimeoutExpired):
            self.clean()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        _unmount_under(self.root)
        # its bridges went with its network namespace
        shutil.rmtree(self.root, ignore_errors=True)


def _unmount_under(root: Path) -> None:
    mounts = Path("/proc/mounts").read_text().splitlines()
    points = sorted(
        (m.split()[1] for m in mounts if m.split()[1].startswith(str(root))), reverse=True
    )
    for point in points:
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


STARTING_GRACE_S = 120.0
ROOT_PREFIX = "asgd-"
"""Every test daemon's root is ``/tmp/asgd-<name>-<random>``, so a later run can find leftovers."""


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return Path(f"/proc/{pid}/exe").resolve().name == "dockerd"


def reap_stale_daemons() -> None:
    """Undo what a killed test run left: a dead daemon's network namespaces and bridge.

    A Swarm daemon killed before it could clean up leaves its overlay namespaces
    bind-mounted, and with them a VXLAN socket; the next Swarm's ingress then fails
    with "error creating vxlan interface: file exists" and no service task starts.
    """
    reaped_swarm = False
    for root in Path("/tmp").glob(f"{ROOT_PREFIX}*"):
        if not root.is_dir() or _pid_alive(root / "pid"):
            continue
        if time.time() - root.stat().st_mtime < STARTING_GRACE_S:
            continue  # another run's daemon, still starting: no pid file yet
        _kill_processes_of(root)
        _unmount_under(root)
        bridge = root / "bridge"
        if bridge.is_file():
            subprocess.run(["ip", "link", "del", bridge.read_text().strip()], capture_output=True)
        reaped_swarm |= root.name.startswith(f"{ROOT_PREFIX}s")
        shutil.rmtree(root, ignore_errors=True)
    if reaped_swarm and not _any_dockerd_running():
        subprocess.run(["ip", "link", "del", "docker_gwbridge"], capture_output=True)


def _kill_processes_of(root: Path) -> None:
    """Kill what a dead daemon left running: its containerd, shims and their containers."""
    parents: dict[int, int] = {}
    owned: set[int] = set()
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if str(root).encode() in (proc / "cmdline").read_bytes():
                owned.add(int(proc.name))
    doomed = set(owned)
    while True:
        children = {pid for pid, parent in parents.items() if parent in doomed} - doomed
        if not children:
            break
        doomed |= children
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _any_dockerd_running() -> bool:
    for exe in Path("/proc").glob("[0-9]*/exe"):
        with contextlib.suppress(OSError):
            if exe.resolve().name == "dockerd":
                return True
    return False


def start_daemon(name: str, *, swarm: bool = False) -> DockerDaemon:
    """A dockerd of our own; ``swarm`` makes it a one-node Swarm manager."""
    refuse_if_servers_off("dockerd")
    if shutil.which("dockerd") is None:
        raise DaemonError("dockerd is not installed: apt-get install docker.io (or run make test)")
    if os.geteuid() != 0:
        raise DaemonError("the tests start dockerd themselves, which needs root")
    reap_stale_daemons()
    root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{name[0]}", dir="/tmp"))
    bridge = f"asg{os.getpid() % 100000}{name[0]}"
    (root / "daemon.json").write_text("{}")
    process = _launch(root, bridge, with_parent=True)
    daemon = DockerDaemon(name=name, root=root, bridge=bridge, process=process)
    try:
        _wait_ready(daemon)
        daemon.cli(
            "import", "--change", "ENV PATH=/bin", "-", TEST_IMAGE, input=busybox_rootfs_tar()
        )
        if swarm:
            # Ports of its own, for the managers and for the overlay's VXLAN traffic: another
            # Swarm on this machine (another run's, or one a killed run left behind) holding
            # 2377 or 4789 would keep it from starting, or every task from starting.
            daemon.cli(
                "swarm",
                "init",
                "--advertise-addr",
                "127.0.0.1",
                "--listen-addr",
                f"127.0.0.1:{random.randint(30000, 39999)}",
                "--data-path-port",
                str(random.randint(20000, 29999)),
            )
    except Exception:
        tail = (root / "dockerd.log").read_text(errors="replace")[-2000:]
        daemon.stop()
        raise DaemonError(f"dockerd {name} did not start:\n{tail}") from None
    return daemon


IN_OWN_NETWORK = (
    'ip link set lo up && ip link add "$1" type bridge && ip addr add "$2" dev "$1" '
    '&& ip link set "$1" up && shift 2 && exec "$@"'
)
"""Run as ``sh -c`` in a new network namespace: loopback up, the daemon's bridge made, then
the daemon itself in place of the shell (its pid is the process's: SIGHUP reaches it)."""
SUBNET = "172.31.1.1/24"
"""The bridge's address: any will do, the namespace is the daemon's alone."""


def _launch(root: Path, bridge: str, *, with_parent: bool = False) -> subprocess.Popen[bytes]:
    """dockerd on ``root``'s socket, data and exec roots, in a network namespace of its
    own; its log appended to the folder's. ``with_parent``: stopped when the thread that
    starts it ends (not for ``resume``, which runs in whatever thread a test gives it)."""
    with (root / "dockerd.log").open("ab") as log:
        return subprocess.Popen(
            [
                "unshare",
                "--net",
                "--",
                "sh",
                "-c",
                IN_OWN_NETWORK,
                "sh",
                bridge,
                SUBNET,
                "dockerd",
                "--storage-driver=vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge",
                bridge,
                "--host",
                f"unix://{root / 'd.sock'}",
                "--data-root",
                str(root / "data"),
                "--exec-root",
                str(root / "x"),
                "--pidfile",
                str(root / "pid"),
                "--config-file",
                str(root / "daemon.json"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if with_parent else None,
        )


def _wait_ready(daemon: DockerDaemon) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise DaemonError(f"dockerd exited with {daemon.process.returncode}")
        if daemon.socket.exists():
            try:
                daemon.cli("version", "--format", "{{.Server.Version}}")
                return
            except DaemonError:
                pass
        time.sleep(0.2)
    raise DaemonError(f"dockerd {daemon.name} did not answer in {START_TIMEOUT_S} s")
