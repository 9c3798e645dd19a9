"""The ``asgard`` command: serve, migrate, and manage users, accounts, keys and clusters."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

import structlog
from aiohttp import web

from asgard.backends.registry import UnknownKind
from asgard.clusters import build_fleet, cluster_configs
from asgard.db.engine import Database, upgrade, upgrade_sync
from asgard.errors import AsgardError
from asgard.logsetup import configure_logging
from asgard.models import AccountCreate, Role, UserCreate
from asgard.services.accounts import AccountsService
from asgard.services.auth import Authenticator
from asgard.services.bootstrap import Bootstrapped
from asgard.services.principal import SYSTEM
from asgard.services.users import UsersService
from asgard.settings import ConfigError, Settings

T = TypeVar("T")

log = structlog.get_logger(__name__)


class CommandError(Exception):
    """What went wrong, for a person at a terminal; printed without a traceback."""


FIRST_KEY_FILE = "first-admin-key"


def write_private(path: Path, text: str) -> Path:
    """A file only this user may read, whatever the umask; replaced if it was there."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    return path


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
    path = write_private(data_dir.absolute() / FIRST_KEY_FILE, created.key.key + "\n")
    log.warning(
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
    from asgard.http.app import create_app

    configure_logging(settings.log_level, settings.log_format)
    settings.signing_key()  # fail now, with a clear message, rather than half-started
    base_url = local_url(settings.host, settings.port)
    app = create_app(
        settings,
        announce=lambda created: announce_first_admin(created, base_url, settings.data_dir),
    )
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=settings.shutdown_grace_s,
    )


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    await upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        return await work(db)
    finally:
        await db.close()


async def create_user(settings: Settings, email: str, name: str, admin: bool) -> str:
    async def work(db: Database) -> str:
        user = await UsersService(db).create(
            SYSTEM, UserCreate(email=email, name=name, is_admin=admin)
        )
        return f"created user {user.id} {user.email}{' (administrator)' if user.is_admin else ''}"

    return await _with_db(settings, work)


async def create_account(settings: Settings, name: str, namespace: str, owner: str | None) -> str:
    async def work(db: Database) -> str:
        account = await AccountsService(db).create(
            SYSTEM, AccountCreate(name=name, namespace=namespace, owner=owner)
        )
        return f"created account {account.id} {account.name} (namespace {account.namespace})"

    return await _with_db(settings, work)


async def add_user(settings: Settings, account_name: str, email: str, role: Role) -> str:
    async def work(db: Database) -> str:
        account = await AccountsService(db).by_name(account_name)
        if account is None:
            raise CommandError(f"no account named {account_name!r}")
        user = await UsersService(db).by_email(email)
        if user is None:
            raise CommandError(f"no user with e-mail {email!r}")
        await AccountsService(db).put_member(SYSTEM, account.id, user.id, role)
        return f"{user.email} is now {role.value} of {account.name}"

    return await _with_db(settings, work)


async def create_token(settings: Settings, email: str, name: str) -> str:
    async def work(db: Database) -> str:
        user = await UsersService(db).by_email(email)
        if user is None:
            raise CommandError(f"no user with e-mail {email!r}")
        auth = Authenticator(db, signing_key=settings.signing_key(), jwt_ttl_s=settings.jwt_ttl_s)
        return (await auth.create_key(user.id, name)).key

    return await _with_db(settings, work)


async def check_clusters(settings: Settings) -> tuple[str, bool]:
    configs = await cluster_configs(settings)
    if not configs:
        return "no clusters configured, and no local Docker Engine answers", False
    fleet = await build_fleet(configs, settings.backend_context())
    try:
        statuses = await fleet.statuses(None, live=True)
    finally:
        await fleet.close()
    lines, healthy = [], True
    width = max(len(s.name) for s in statuses)
    for status in statuses:
        if status.status == "ok":
            lines.append(
                f"{status.name:<{width}}  {status.kind:<10}  ok           "
                f"version {status.version}  {status.latency_ms:.1f} ms"
            )
        else:
            healthy = False
            lines.append(f"{status.name:<{width}}  {status.kind:<10}  unreachable  {status.error}")
    return "\n".join(lines), healthy


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="asgard", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True, metavar="command")

    serve_cmd = commands.add_parser("serve", help="serve the HTTP API")
    serve_cmd.add_argument("--config", type=Path, help="TOML file listing the clusters")
    serve_cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default 4898)")

    db = commands.add_parser("db", help="the database").add_subparsers(
        dest="db_command", required=True, metavar="command"
    )
    db.add_parser("upgrade", help="migrate the database to the newest schema")

    users = commands.add_parser("users", help="users").add_subparsers(
        dest="users_command", required=True, metavar="command"
    )
    user_create = users.add_parser("create", help="create a user")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--admin", action="store_true", help="an Asgard administrator")

    accounts = commands.add_parser("accounts", help="accounts").add_subparsers(
        dest="accounts_command", required=True, metavar="command"
    )
    account_create = accounts.add_parser("create", help="create an account")
    account_create.add_argument("--name", required=True)
    account_create.add_argument("--namespace", required=True)
    account_create.add_argument("--owner", help="agents whose 'owner' attribute is this are ours")
    add_user_cmd = accounts.add_parser("add-user", help="make a user a member of an account")
    add_user_cmd.add_argument("--account", required=True, help="the account's name")
    add_user_cmd.add_argument("--email", required=True)
    add_user_cmd.add_argument("--role", required=True, choices=[r.value for r in Role])

    tokens = commands.add_parser("tokens", help="API keys").add_subparsers(
        dest="tokens_command", required=True, metavar="command"
    )
    token_create = tokens.add_parser("create", help="create an API key; prints it alone on stdout")
    token_create.add_argument("--email", required=True)
    token_create.add_argument("--name", default="created with asgard tokens create")

    clusters = commands.add_parser("clusters", help="clusters").add_subparsers(
        dest="clusters_command", required=True, metavar="command"
    )
    check = clusters.add_parser("check", help="each cluster: reachable or not, version, latency")
    check.add_argument("--config", type=Path, help="TOML file listing the clusters")
    return top


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {
        key: value
        for key in ("config", "host", "port")
        if (value := getattr(args, key, None)) is not None
    }
    settings = Settings(**overrides)
    if args.command != "serve":
        configure_logging("WARNING", settings.log_format or "console")
    match args.command:
        case "serve":
            serve(settings)
            return 0
        case "db":
            upgrade_sync(settings.db_url)
            print("database is up to date")
            return 0
        case "users":
            print(asyncio.run(create_user(settings, args.email, args.name, args.admin)))
            return 0
        case "accounts" if args.accounts_command == "create":
            print(asyncio.run(create_account(settings, args.name, args.namespace, args.owner)))
            return 0
        case "accounts":
            print(asyncio.run(add_user(settings, args.account, args.email, Role(args.role))))
            return 0
        case "tokens":
            print(asyncio.run(create_token(settings, args.email, args.name)))
            return 0
        case "clusters":
            report, healthy = asyncio.run(check_clusters(settings))
            print(report)
            return 0 if healthy else 1
    return 2


def main(argv: Sequence[str] | None = None) -> None:
    try:
        sys.exit(run(argv))
    except (AsgardError, CommandError, ConfigError, UnknownKind) as exc:
        print(f"asgard: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
