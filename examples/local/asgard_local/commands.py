"""What a process is given: its arguments and its environment, built here and only here.

A process never inherits Asgard's environment, which holds Asgard's own secrets (its
signing key, its database URL): it gets a small base (``PATH``, ``HOME``, ``LANG``) and
what its spec says, which wins. An app's image is recorded but not used (there are no
images on a plain host), so what runs is the spec's ``cmd`` and ``args``, and a program
that is not on the host is refused before anything is started.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

from asgard.errors import InvalidValue

__all__ = ["DEFAULT_PATH", "argv_of", "find_program", "process_env", "require_program"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LANG = "C.UTF-8"


def process_env(home: str, given: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a process: the base, then the spec's variables."""
    return {"PATH": DEFAULT_PATH, "HOME": home, "LANG": LANG, **given}


def argv_of(
    command: list[str] | None, args: list[str] | None, *, field: str, cluster: str
) -> list[str]:
    """``command`` then ``args``; there is no image to supply a default, so one is needed."""
    argv = [*(command or []), *(args or [])]
    if not argv:
        raise InvalidValue(
            "a local cluster runs commands, not images: give a command or args",
            field=field,
            cluster=cluster,
        )
    return argv


def find_program(program: str, path: str) -> str | None:
    """Where ``program`` is on this host: an executable absolute path, or found on ``path``."""
    if os.path.isabs(program):
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    if "/" in program:  # relative to a working directory that starts empty
        return None
    return shutil.which(program, path=path)


def require_program(argv: list[str], env: Mapping[str, str], *, field: str, cluster: str) -> None:
    """Refuse now what could only fail once started: a program the host does not have."""
    if find_program(argv[0], env.get("PATH", DEFAULT_PATH)) is None:
        raise InvalidValue(
            f"'{argv[0]}' is not a program on this host (an absolute path, or a name found "
            "on PATH)",
            field=field,
            cluster=cluster,
        )
