"""The commands that work on Asgard's own database and clusters file, not over HTTP:
``db upgrade``, ``users create``, ``accounts create|add-user``, ``tokens create`` and
``clusters check|rbac|rotate-key``. They run where the server runs, with its settings.
(``clusters add|set|remove|show`` drive a running Asgard: ``asgard.cli.clusters``.)"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from asgard.cli import clusters as registered_clusters
from asgard.cli.cluster_check import check_clusters
from asgard.cli.errors import CommandError
from asgard.models import AccountCreate, Role, UserCreate

if TYPE_CHECKING:
    from asgard.db.engine import Database
    from asgard.settings import Settings

__all__ = ["check_clusters", "register", "settings_of", "with_db"]

T = TypeVar("T")
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def settings_of(args: argparse.Namespace, *, quiet: bool = True) -> Settings:
    """The server's settings, with what the command line overrides; a one-off command logs
    only warnings, so its output is its answer."""
    from asgard.settings import Settings

    overrides = {
        key: value
        for key in ("config", "host", "port")
        if (value := getattr(args, key, None)) is not None
    }
    settings = Settings(**overrides)
    if quiet:
        from asgard.logsetup import configure_logging

        configure_logging("WARNING", settings.log_format or "console")
    return settings


async def with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    from asgard.db.engine import Database, upgrade

    await upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        return await work(db)
    finally:
        await db.close()


async def create_user(settings: Settings, email: str, name: str, admin: bool) -> str:
    from asgard.services.principal import SYSTEM
    from asgard.services.users import UsersService

    async def work(db: Database) -> str:
        user = await UsersService(db).create(
            SYSTEM, UserCreate(email=email, name=name, is_admin=admin)
        )
        return f"created user {user.id} {user.email}{' (administrator)' if user.is_admin else ''}"

    return await with_db(settings, work)


async def create_account(settings: Settings, name: str, namespace: str, owner: str | None) -> str:
    from asgard.services.accounts import AccountsService
    from asgard.services.principal import SYSTEM

    async def work(db: Database) -> str:
        account = await AccountsService(db, reserved=settings.namespace_rules()).create(
            SYSTEM, AccountCreate(name=name, namespace=namespace, owner=owner)
        )
        return f"created account {account.id} {account.name} (namespace {account.namespace})"

    return await with_db(settings, work)


async def add_user(settings: Settings, account_name: str, email: str, role: Role) -> str:
    from asgard.services.accounts import AccountsService
    from asgard.services.principal import SYSTEM
    from asgard.services.users import UsersService

    async def work(db: Database) -> str:
        account = await AccountsService(db).by_name(account_name)
        if account is None:
            raise CommandError(f"no account named {account_name!r}")
        user = await UsersService(db).by_email(email)
        if user is None:
            raise CommandError(f"no user with e-mail {email!r}")
        await AccountsService(db).put_member(SYSTEM, account.id, user.id, role)
        return f"{user.email} is now {role.value} of {account.name}"

    return await with_db(settings, work)


async def create_token(settings: Settings, email: str, name: str) -> str:
    from asgard.services.auth import Authenticator
    from asgard.services.users import UsersService

    async def work(db: Database) -> str:
        user = await UsersService(db).by_email(email)
        if user is None:
            raise CommandError(f"no user with e-mail {email!r}")
        auth = Authenticator(db, signing_key=settings.signing_key(), jwt_ttl_s=settings.jwt_ttl_s)
        return (await auth.create_key(user.id, name)).key

    return await with_db(settings, work)


async def rotate_cluster_keys(settings: Settings) -> str:
    from asgard.backends.orchestrator import Orchestrator
    from asgard.services.cluster_registry import ClusterRegistry

    keys = settings.cluster_key_ring()
    if not keys.available:
        raise CommandError("ASGARD_CLUSTER_KEYS is not set: there is no key to rotate to")

    async def work(db: Database) -> str:
        registry = ClusterRegistry(
            db, Orchestrator([]), keys, settings.backend_context(), file_names=frozenset()
        )
        count = await registry.rotate_keys()
        return f"the secrets of {count} registered clusters are encrypted with the first key"

    return await with_db(settings, work)


def _print(answer: str) -> int:
    print(answer)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from asgard.db.engine import upgrade_sync

    upgrade_sync(settings_of(args).db_url)
    return _print("database is up to date")


def _users_create(args: argparse.Namespace) -> int:
    return _print(asyncio.run(create_user(settings_of(args), args.email, args.name, args.admin)))


def _accounts_create(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    return _print(asyncio.run(create_account(settings, args.name, args.namespace, args.owner)))


def _accounts_add_user(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    return _print(asyncio.run(add_user(settings, args.account, args.email, Role(args.role))))


def _tokens_create(args: argparse.Namespace) -> int:
    return _print(asyncio.run(create_token(settings_of(args), args.email, args.name)))


def _clusters_check(args: argparse.Namespace) -> int:
    report, healthy = asyncio.run(check_clusters(settings_of(args)))
    print(report)
    return 0 if healthy else 1


def _clusters_rotate_key(args: argparse.Namespace) -> int:
    return _print(asyncio.run(rotate_cluster_keys(settings_of(args))))


def _clusters_rbac(args: argparse.Namespace) -> int:
    from asgard.backends.kubernetes.rbac import namespace_rbac_yaml

    print(
        namespace_rbac_yaml(
            args.namespace,
            service_account=args.service_account,
            service_account_namespace=args.service_account_namespace,
        ),
        end="",
    )
    return 0


def _group(commands: Commands, name: str, help: str) -> Commands:
    return commands.add_parser(name, help=help).add_subparsers(
        dest=f"{name}_command", required=True, metavar="command"
    )


def register(commands: Commands) -> None:
    db = _group(commands, "db", "the database")
    db.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(
        handler=_db_upgrade
    )

    users = _group(commands, "users", "users")
    user_create = users.add_parser("create", help="create a user")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--admin", action="store_true", help="an Asgard administrator")
    user_create.set_defaults(handler=_users_create)

    accounts = _group(commands, "accounts", "accounts")
    account_create = accounts.add_parser("create", help="create an account")
    account_create.add_argument("--name", required=True)
    account_create.add_argument("--namespace", required=True)
    account_create.add_argument("--owner", help="agents whose 'owner' attribute is this are ours")
    account_create.set_defaults(handler=_accounts_create)
    add_user_cmd = accounts.add_parser("add-user", help="make a user a member of an account")
    add_user_cmd.add_argument("--account", required=True, help="the account's name")
    add_user_cmd.add_argument("--email", required=True)
    add_user_cmd.add_argument("--role", required=True, choices=[r.value for r in Role])
    add_user_cmd.set_defaults(handler=_accounts_add_user)

    tokens = _group(commands, "tokens", "API keys")
    token_create = tokens.add_parser("create", help="create an API key; prints it alone on stdout")
    token_create.add_argument("--email", required=True)
    token_create.add_argument("--name", default="created with asgard tokens create")
    token_create.set_defaults(handler=_tokens_create)

    clusters = _group(commands, "clusters", "clusters")
    check = clusters.add_parser("check", help="each cluster: reachable or not, version, latency")
    check.add_argument("--config", type=Path, help="TOML file listing the clusters")
    check.set_defaults(handler=_clusters_check)
    rbac = clusters.add_parser(
        "rbac",
        help="print the Kubernetes Role and RoleBinding Asgard needs in an account's "
        "namespace, for kubectl apply -f -",
    )
    rbac.add_argument("--namespace", required=True, help="the account's namespace")
    rbac.add_argument("--service-account", default="asgard", help="Asgard's service account")
    rbac.add_argument(
        "--service-account-namespace", default="asgard", help="where Asgard's service account is"
    )
    rbac.set_defaults(handler=_clusters_rbac)
    rotate = clusters.add_parser(
        "rotate-key",
        help="encrypt every registered cluster's secrets again with the first key of "
        "ASGARD_CLUSTER_KEYS (then the old keys can be dropped)",
    )
    rotate.set_defaults(handler=_clusters_rotate_key)
    registered_clusters.register(clusters)
