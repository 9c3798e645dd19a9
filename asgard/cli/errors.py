"""What the command says went wrong, and with which exit code."""

from __future__ import annotations

__all__ = ["CommandError", "UsageError"]


class CommandError(Exception):
    """What went wrong, for a person at a terminal; printed without a traceback (exit 1)."""


class UsageError(Exception):
    """The command line (or a file it names) cannot be used as given: exit 2, as argparse does."""
