"""The ``asgard`` command. ``serve`` and the administration commands (``db``, ``users``,
``accounts``, ``tokens``, ``clusters check``) work where the server runs; ``login``,
``get``, ``apps``, ``jobs``, ``workflows``, ``events`` and ``audit`` drive a running
Asgard over HTTP through ``asgard.client``. One module per command group.

The administration functions stay importable from here, as they were from the single
module this package replaced (test fixtures set databases up with them)."""

# PYTHON_ARGCOMPLETE_OK

from asgard.cli.admin import add_user, check_clusters, create_account, create_token, create_user
from asgard.cli.errors import CommandError
from asgard.cli.main import main, parser, run
from asgard.cli.serve import announce_first_admin, local_url, serve, write_private

__all__ = [
    "CommandError",
    "add_user",
    "announce_first_admin",
    "check_clusters",
    "create_account",
    "create_token",
    "create_user",
    "local_url",
    "main",
    "parser",
    "run",
    "serve",
    "write_private",
]
