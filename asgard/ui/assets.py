"""The dashboard's own static files, addressed by what they hold.

Static files are served ``immutable`` for a year, so a browser never asks again for a URL
it has. The vendored libraries carry their version in their folder's name; Asgard's own
files (``asgard.js``, ``asgard.css``...) do not, and a fix to one would never reach a
browser that had the old one. Pages therefore name them with a digest of their content
(``/ui/static/asgard.js?v=3f2a...``): a new release's file is a new URL."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Final

from asgard.ui.paths import UI_PREFIX

__all__ = ["STATIC_DIR", "static_url"]

STATIC_DIR: Final = Path(__file__).parent / "static"


@cache
def static_url(name: str) -> str:
    """The URL of ``name`` (relative to the static folder) with its content's digest; read
    once per process: the files do not change while Asgard runs."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{UI_PREFIX}/static/{name}?v={digest}"
