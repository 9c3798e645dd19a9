"""One scratch folder per test run, removed when the run ends, so that data folders
made for backends built outside a fixture's ``tmp_path`` do not pile up in /tmp."""

from __future__ import annotations

import tempfile
from pathlib import Path

_SCRATCH = tempfile.TemporaryDirectory(prefix="asgard-test-data-")


def scratch_dir(prefix: str = "data-") -> Path:
    """A new empty folder inside this run's scratch folder."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH.name))
