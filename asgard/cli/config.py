"""Where the command finds the server and the key: ``ASGARD_URL`` and ``ASGARD_TOKEN``,
else the file ``asgard login`` wrote under ``$XDG_CONFIG_HOME/asgard/`` (by default
``~/.config/asgard/``), which only its user may read."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from asgard.cli.errors import UsageError
from asgard.cli.files import write_private

__all__ = ["Remote", "config_file", "remote", "save"]

CONFIG_NAME: Final = "config.toml"


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "asgard" / CONFIG_NAME


@dataclass(frozen=True)
class Remote:
    """A running Asgard and the key to use with it."""

    url: str
    token: str
    account_id: int | None = None


def _read() -> dict[str, object]:
    path = config_file()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def remote(account_id: int | None = None) -> Remote:
    """The server to talk to; the environment wins over the file, so a script can point one
    command elsewhere without logging in."""
    saved = _read()
    url = os.environ.get("ASGARD_URL") or saved.get("url")
    token = os.environ.get("ASGARD_TOKEN") or saved.get("token")
    if not isinstance(url, str) or not url:
        raise UsageError("no Asgard to talk to: run 'asgard login --url URL' or set ASGARD_URL")
    if not isinstance(token, str) or not token:
        raise UsageError(f"no key for {url}: run 'asgard login --url {url}' or set ASGARD_TOKEN")
    saved_account = saved.get("account_id")
    if account_id is None and isinstance(saved_account, int):
        account_id = saved_account
    return Remote(url=url.rstrip("/"), token=token, account_id=account_id)


def save(found: Remote) -> Path:
    """Written whole, readable only by this user: it holds a key."""
    lines = [f"url = {json.dumps(found.url)}", f"token = {json.dumps(found.token)}"]
    if found.account_id is not None:
        lines.append(f"account_id = {found.account_id}")
    return write_private(config_file(), "\n".join(lines) + "\n")
