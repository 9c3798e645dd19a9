"""Which URLs are the dashboard's: everything under ``/ui``, and ``/``, which redirects there."""

from __future__ import annotations

from typing import Final

__all__ = ["UI_PREFIX", "is_static_path", "is_ui_path"]

UI_PREFIX: Final = "/ui"


def is_ui_path(path: str) -> bool:
    """Whether a route belongs to the dashboard, not to the API (``/`` redirects to it)."""
    return path == "/" or path == UI_PREFIX or path.startswith(UI_PREFIX + "/")


def is_static_path(path: str) -> bool:
    return path.startswith(UI_PREFIX + "/static/")
