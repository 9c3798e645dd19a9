"""Runs one job's command with ``/input`` and ``/output`` of its own, in a mount
namespace of its own (``unshare --mount --propagation private``, which starts it) and a
PID namespace it makes itself.

Run as a script (``python -I -S launcher.py ...``), not imported: it uses nothing but the
standard library, so the job's environment cannot change what Python loads. It

1. mounts a tmpfs as a new root folder and shows the host's top-level entries in it
   (each folder bound, recursively; each symlink made again; each file bound);
2. hides the folders it is told to (the state folder, Asgard's data, its database's and
   its settings' folders) under empty tmpfs nobody may enter, and files under
   ``/dev/null``, so a job cannot read another job's files or Asgard's;
3. mounts a private tmpfs at ``/tmp`` and ``/dev/shm``, and binds the job's folders at
   ``/input`` and ``/output``;
4. forks the first process of a new PID namespace, which mounts that namespace's
   ``/proc``, makes every other mount of the new root read-only (keeping each one's own
   flags: ``nosuid``, ``nodev``...), enters it (``chroot``, ``cd /``) and starts the
   command as its child, as the ``--uid``, ``--gid`` and ``--groups`` when given, in a
   process group of its own.

That first process is the namespace's init: it passes SIGTERM and its kin on to the
command's group, reaps whatever ends, and exits with the command's exit code (``128 + N``
for a signal). When it exits the kernel kills whatever is left in the namespace, so
nothing a job started, even a daemon that left its session, outlives it; it dies with the
launcher (``PR_SET_PDEATHSIG``). The launcher itself only waits: Asgard signals its whole
process group, init included. A signal that comes while the root is being built ends the
launcher before anything ran. Failures to build exit with 125 and a line on stderr,
which is the job's log.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
KEPT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
"""A bind remount replaces a mount's flags: these are given again, so none is lost."""
WRITABLE = ("/dev", "/tmp", "/input", "/output")
PRIVATE = ("tmp", "input", "output", "proc")
"""Top-level names the job gets its own of, whatever the host has there."""
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)
FAILED = 125
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]
_libc.unshare.argtypes = [ctypes.c_int]


def fail(message: str) -> NoReturn:
    print(f"asgard: cannot start the job: {message}", file=sys.stderr, flush=True)
    os._exit(FAILED)


def mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    done = _libc.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, flags, data.encode()
    )
    if done != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount on {target}: {os.strerror(errno)}")


def show_host(root: str) -> None:
    """The host's top-level entries in the new root, but those the job gets its own of."""
    mount("asgard-job", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for entry in sorted(os.scandir("/"), key=lambda e: e.name):
        target = os.path.join(root, entry.name)
        if entry.name in PRIVATE:
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            os.mkdir(target)
            mount(entry.path, target, None, MS_BIND | MS_REC)
        elif entry.is_file():
            with open(target, "x"):
                pass
            mount(entry.path, target, None, MS_BIND)


def hide(root: str, paths: Sequence[str]) -> None:
    """Each folder under an empty tmpfs nobody may enter, each file under ``/dev/null``.
    A path is followed on the host first: its copy in the new root may go through a
    symlink made again there, which points at the host's own folder."""
    for path in paths:
        real = os.path.realpath(path)
        if real == "/":  # hiding everything would leave nothing to run
            continue
        target = root + real
        if os.path.isdir(target) and not os.path.islink(target):
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            mount("asgard-hidden", target, "tmpfs", flags, "mode=000,size=4k")
        elif os.path.isfile(target) and not os.path.islink(target):
            mount("/dev/null", target, None, MS_BIND)


def private_folders(root: str, input_dir: str, output_dir: str) -> None:
    for name in PRIVATE:
        os.mkdir(os.path.join(root, name), 0o755)
    mount("asgard-tmp", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if os.path.isdir(f"{root}/dev/shm"):
        mount("asgard-shm", f"{root}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    mount(input_dir, f"{root}/input", None, MS_BIND)
    mount(output_dir, f"{root}/output", None, MS_BIND)


def _unescape(field: str) -> str:
    """``/proc/self/mountinfo`` writes a space as ``\\040`` (and tab, newline, backslash)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def read_only(root: str, hidden: Sequence[str]) -> None:
    """Every mount in the new root read-only, but the job's own folders and ``/dev``;
    mounts under a hidden folder cannot be reached, and need nothing."""
    kept_out = [os.path.realpath(p) for p in hidden]
    with open("/proc/self/mountinfo") as table:
        rows = [line.split() for line in table]
    for row in rows:
        point = _unescape(row[4])
        if point != root and not point.startswith(root + "/"):
            continue
        inside = point[len(root) :] or "/"
        if any(inside == w or inside.startswith(w + "/") for w in WRITABLE):
            continue
        if any(inside.startswith(h + "/") for h in kept_out):
            continue
        kept = 0
        for option in row[5].split(","):
            kept |= KEPT_FLAGS.get(option, 0)
        mount("none", point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def identity(given: argparse.Namespace) -> tuple[int, int, list[int]] | None:
    """The uid, gid and groups to run the command as; None: the launcher's own."""
    if given.uid is None:
        return None
    groups = [int(g) for g in given.groups.split(",") if g]
    return given.uid, given.gid if given.gid is not None else given.uid, groups


class Signals:
    """What to do with a signal: nothing in the launcher (init gets it from Asgard too),
    pass it on in init, or keep it until init's command exists. One handler, set before
    init is forked and so inherited by it: no signal can come while init has none, which
    the kernel would drop."""

    def __init__(self) -> None:
        self.init = False
        self.command: int | None = None
        self.pending: list[int] = []

    def __call__(self, signum: int, _frame: object) -> None:
        if not self.init:
            return
        if self.command is None:
            self.pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.command, signum)

    def started(self, command: int) -> None:
        self.command = command
        for signum in self.pending:
            self(signum, None)


def start(argv: list[str], ids: tuple[int, int, list[int]] | None) -> int:
    """The command, as a child in a process group of its own; its pid."""
    child = os.fork()
    if child:
        with contextlib.suppress(OSError):  # the child does too: whichever runs first
            os.setpgid(child, child)
        return child
    try:
        for signum in FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
        os.setpgid(0, 0)
        if ids is not None:
            os.setgroups(ids[2])
            os.setgid(ids[1])
            os.setuid(ids[0])
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"asgard: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr, flush=True)
        os._exit(127)


def wait_for(child: int) -> NoReturn:
    """Reap every child until ``child`` ends; exit with its code."""
    while True:
        pid, status = os.wait()
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            os._exit(128 - code if code < 0 else code)


def be_init(root: str, given: argparse.Namespace, signals: Signals) -> NoReturn:
    """The first process of the new PID namespace: finish the root, enter it, run."""
    signals.init = True
    ids = identity(given)
    try:
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
        mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        read_only(root, given.hide)
        os.chroot(root)
        os.chdir("/")
    except OSError as exc:
        fail(str(exc))
    command = start(given.command, ids)
    signals.started(command)
    wait_for(command)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="asgard-local-launcher")
    parser.add_argument("--root", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--groups", default="")
    parser.add_argument("command", nargs="+")
    return parser.parse_args(argv)


def main(argv: list[str]) -> NoReturn:
    given = arguments(argv)
    root = os.path.realpath(given.root)
    try:
        show_host(root)
        hide(root, given.hide)
        private_folders(root, given.input, given.output)
    except OSError as exc:
        fail(str(exc))
    signals = Signals()
    for signum in FORWARDED:
        signal.signal(signum, signals)
    if _libc.unshare(CLONE_NEWPID) != 0:
        fail(f"a PID namespace: {os.strerror(ctypes.get_errno())}")
    init = os.fork()
    if init == 0:
        be_init(root, given, signals)
    wait_for(init)


if __name__ == "__main__":
    main(sys.argv[1:])
