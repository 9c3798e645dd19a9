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

__all__ = ["run_in_process", "runs_here"]


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
    if not runs_here():
        raise RuntimeError("asgard commands run in the test's process only from its main thread")
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    with _environment(env, cwd), _logging_kept():
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(input or ""), out, err
        try:
            code = _main(args)
        finally:
            sys.stdin, sys.stdout, sys.stderr = streams
    return subprocess.CompletedProcess(["asgard", *args], code, out.getvalue(), err.getvalue())


def runs_here() -> bool:
    """Whether a command can run in this process now: from the main thread, outside an
    event loop (the command runs its own, ``asyncio.run``). Not from another thread: the
    command's first imports would be parsed there (pytest rewrites Asgard's modules, a
    plugin's) while the main thread parses others, and CPython 3.11's AST state is shared
    between threads ("AST constructor recursion depth mismatch", CI run 15; cpython
    gh-106905). An async test's commands are processes of their own."""
    return threading.current_thread() is threading.main_thread() and not _loop_running()


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
