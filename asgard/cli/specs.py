"""Reading an AppSpec or a WorkflowSpec from a file: TOML, YAML or JSON, told by the file's
suffix (JSON, then YAML, when the suffix says nothing)."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from asgard.cli.errors import UsageError

__all__ = ["read_spec"]


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".toml":
        return tomllib.loads(text)
    if suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    if suffix == ".json":
        return json.loads(text)
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def read_spec(name: str, cluster: str | None = None) -> dict[str, Any]:
    """The file's mapping (``-`` is stdin), with ``cluster`` filled in when the file names
    none. Whether the values are acceptable is the server's to say (422)."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
        data = _parse(text, "" if name == "-" else Path(name).suffix.lower())
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except (ValueError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{name} is not valid TOML, YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{name} must hold one mapping (an object), not {type(data).__name__}")
    if cluster and not data.get("cluster"):
        data["cluster"] = cluster
    return data
