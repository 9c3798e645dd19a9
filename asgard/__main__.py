"""``python -m asgard`` is the ``asgard`` command."""

from asgard.cli import main

main()
