"""Sphinx configuration. The HTTP API page is generated from the running code's OpenAPI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import openapi_rst  # noqa: E402

from asgard import __version__  # noqa: E402

project = "Asgard"
author = "The Asgard engineers"
copyright = "2026, The Asgard engineers"
version = release = __version__

extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_extra_path = ["_generated/extra"]
nitpicky = False


def generate() -> None:
    """Write the HTTP API page and a copy of openapi.json, from the code as it is now."""
    from asgard.http.app import operations
    from asgard.http.openapi import build_openapi

    document = build_openapi(operations())
    out = HERE / "_generated"
    (out / "extra").mkdir(parents=True, exist_ok=True)
    (out / "extra" / "openapi.json").write_text(json.dumps(document, indent=2))
    text = openapi_rst.render(document)
    target = out / "http-api.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


generate()
