"""Servers the tests start end with the test process, however it ends.

An interrupted run (Ctrl-C, a CI job cancelled) kills pytest-xdist's workers without
running their finalizers: a dockerd or a Chromium they started would go on running, an
orphan no later run reaps (the reaper takes only daemons that died). Started with
``preexec_fn=die_with_parent``, the child gets SIGTERM when the thread that started it
ends: start it from the thread that lives as long as it should (the test process's main
thread, for the session's servers)."""

from __future__ import annotations

import ctypes
import signal
from typing import Final

__all__ = ["die_with_parent"]

PR_SET_PDEATHSIG: Final = 1


def die_with_parent() -> None:
    """In the child, before it runs its program (the setting survives ``exec``)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
