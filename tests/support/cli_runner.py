"""The ``asgard`` command run within the test's process, as ``python -m asgard`` runs it.

A new Python process per command costs about half a second of CPU on these machines
(the interpreter, then the imports), and the CLI tests ask hundreds of commands, most
of them polls (``apps get`` until the app runs). Run here, a command goes through the
very code a process would (``asgard.cli.main.main``: its parser, exit codes and error
lines) with its own environment, working folder, stdin, stdout and stderr, and the
process-wide state it touches (logging, the environment) put back afterwards. What only a
real process shows (a terminal, signals, a traceback reaching the user, a command that
keeps running) is still tried as one: ``Cli(process=True)``, ``Cli.start``."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import structlog

__all__ = ["run_in_process"]


@contextlib.contextmanager
def _environment(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    saved, here = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.chdir(here)


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """The admin commands configure logging for the process: the test's is put back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)


def _exit_code(exit: SystemExit) -> int:
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)  # sys.exit("message"), as the interpreter does
    return 1


def run_in_process(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``asgard ARGS`` with ``env`` as its whole environment, in ``cwd``, fed ``input``:
    what it printed and its exit code, as ``subprocess.run`` would give them. An exception
    the command does not turn into an exit (a bug: the user would see a traceback) is
    raised here, and fails the test with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    with _environment(env, cwd), _logging_kept():
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(input or ""), out, err
        try:
            code = _in_a_thread_of_its_own(args) if _loop_running() else _main(args)
        finally:
            sys.stdin, sys.stdout, sys.stderr = streams
    return subprocess.CompletedProcess(["asgard", *args], code, out.getvalue(), err.getvalue())


def _main(args: Sequence[str]) -> int:
    from asgard.cli.main import main

    try:
        main(list(args))
    except SystemExit as exit:
        return _exit_code(exit)
    return 0


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_a_thread_of_its_own(args: Sequence[str]) -> int:
    """From an async test: the command runs its own event loop (``asyncio.run``), which
    cannot be started within the test's. The test's loop waits, as it would on a process."""
    done: list[int] = []
    failed: list[BaseException] = []

    def command() -> None:
        try:
            done.append(_main(args))
        except BaseException as exc:  # raised in the test, where it belongs
            failed.append(exc)

    thread = threading.Thread(target=command, name="asgard-command")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return done[0]
