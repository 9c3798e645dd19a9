"""``asgard serve``: the HTTP API, and the first administrator's key on a first start."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from asgard.cli.files import write_private

if TYPE_CHECKING:
    from asgard.services.bootstrap import Bootstrapped
    from asgard.settings import Settings

__all__ = ["announce_first_admin", "local_url", "register", "serve", "write_private"]

FIRST_KEY_FILE: Final = "first-admin-key"


def announce_first_admin(
    created: Bootstrapped, base_url: str, data_dir: Path, out: TextIO | None = None
) -> None:
    """Never logged: the key must not end up in log files. A person at a terminal sees it
    once; anywhere else (a service, a container, where stdout is the log pipeline) it goes
    to a file only Asgard's user may read, and only that file's name is said."""
    out = out or sys.stdout
    who = (
        f"  First start: created administrator {created.user.email} and account "
        f"'{created.account.name}' (namespace '{created.account.namespace}').\n"
    )
    if out.isatty():
        out.write(
            f"\n{who}  Their API key, shown this once:\n\n    {created.key.key}\n\n"
            f"  Try: curl -H 'Authorization: Token {created.key.key}' {base_url}/agents\n\n"
        )
        out.flush()
        return
    import structlog

    path = write_private(data_dir.absolute() / FIRST_KEY_FILE, created.key.key + "\n")
    structlog.get_logger(__name__).warning(
        "first start: the administrator's API key is in a file only this user can read",
        path=str(path),
        email=created.user.email,
    )
    out.write(
        f"\n{who}  Their API key is in {path} (readable only by this user).\n"
        f'  Try: curl -H "Authorization: Token $(cat {path})" {base_url}/agents\n\n'
    )
    out.flush()


def local_url(host: str, port: int) -> str:
    """Where a person on this machine reaches the server (a catch-all host is not an address)."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(settings: Settings) -> None:
    from asgard.http.serving import serve_until_stopped
    from asgard.logsetup import configure_logging
    from asgard.server import create_app

    configure_logging(settings.log_level, settings.log_format)
    settings.signing_key()  # fail now, with a clear message, rather than half-started
    base_url = local_url(settings.host, settings.port)
    app = create_app(
        settings,
        announce=lambda created: announce_first_admin(created, base_url, settings.data_dir),
    )
    asyncio.run(serve_until_stopped(app, host=settings.host, port=settings.port))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve_cmd = commands.add_parser("serve", help="serve the HTTP API")
    serve_cmd.add_argument("--config", type=Path, help="TOML file listing the clusters")
    serve_cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default 4898)")
    serve_cmd.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from asgard.cli.admin import settings_of

    serve(settings_of(args, quiet=False))
    return 0
