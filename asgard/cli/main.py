"""The ``asgard`` command: one parser made of each command group's ``register``, and the
exit codes: 0 on success, 1 when Asgard (or the work) failed, with its message on stderr,
2 for a command line that cannot be used (as argparse itself does)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from asgard.cli import (
    admin,
    apps,
    completion,
    events,
    get,
    jobs,
    login,
    migrate,
    serve,
    workflows,
)
from asgard.cli.errors import CommandError, UsageError

__all__ = ["main", "parser", "run"]

DESCRIPTION = (
    "Serve Asgard and manage its users, accounts, keys and clusters; or drive a running "
    "Asgard over HTTP (asgard login, then get, apps, jobs, workflows, events, audit)."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="asgard", description=DESCRIPTION)
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    serve.register(commands)
    admin.register(commands)
    migrate.register(commands)
    login.register(commands)
    get.register(commands)
    apps.register(commands)
    jobs.register(commands)
    workflows.register(commands)
    events.register(commands)
    completion.register(commands)
    return top


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """The words before the first ``--``, and those after it (a job's command, whose own
    options must not be read as ``asgard``'s), or None when there is no ``--``."""
    words = list(argv)
    if "--" not in words:
        return words, None
    cut = words.index("--")
    return words[:cut], words[cut + 1 :]


def run(argv: Sequence[str] | None = None) -> int:
    top = parser()
    import argcomplete

    argcomplete.autocomplete(top)
    words, command = split_command(sys.argv[1:] if argv is None else argv)
    args = top.parse_args(words)
    if command is not None:
        if not getattr(args, "takes_command", False):
            top.error("'-- CMD...' is only for asgard jobs run")
        args.cmd = command
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        top.exit(2, f"asgard: error: {exc}\n")
    return code


def _failure(exc: BaseException) -> bool:
    """The failures said in one line and exit 1: Asgard's answers, the server's own
    configuration errors, a command's own refusals."""
    from asgard.backends.registry import UnknownKind
    from asgard.client import AsgardClientError
    from asgard.errors import AsgardError
    from asgard.settings import ConfigError

    return isinstance(
        exc, AsgardError | AsgardClientError | CommandError | ConfigError | UnknownKind
    )


def main(argv: Sequence[str] | None = None) -> None:
    try:
        sys.exit(run(argv))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (| head): nothing more to say
        sys.exit(0)
    except Exception as exc:
        if not _failure(exc):
            raise
        print(f"asgard: {exc}", file=sys.stderr)
        sys.exit(1)
