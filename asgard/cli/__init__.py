"""The ``asgard`` command. ``serve`` and the administration commands (``db``, ``users``,
``accounts``, ``tokens``, ``clusters check``) work where the server runs; ``login``,
``get``, ``apps``, ``jobs``, ``workflows``, ``events`` and ``audit`` drive a running
Asgard over HTTP through ``asgard.client``. One module per command group."""

# PYTHON_ARGCOMPLETE_OK

from asgard.cli.main import main, parser, run

__all__ = ["main", "parser", "run"]
