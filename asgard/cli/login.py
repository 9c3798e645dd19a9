"""``asgard login --url URL``: check a key against the server and keep both for later."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from asgard.cli.config import Remote, save
from asgard.cli.errors import UsageError

__all__ = ["register"]


def read_key() -> str:
    """From a prompt that does not echo at a terminal; from stdin otherwise (a pipe, a
    secret store), so a key never has to be on the command line where ``ps`` shows it."""
    at_terminal = sys.stdin.isatty()
    key = (getpass.getpass("API key: ") if at_terminal else sys.stdin.readline()).strip()
    if not key:
        raise UsageError("no API key given")
    return key


async def _check(found: Remote) -> str:
    from asgard.client import AsgardClient

    async with AsgardClient(found.url, found.token, account_id=found.account_id) as client:
        me = await client.users.me()
    where = (
        f", account {me.current_account.name} ({me.current_account.role.value})"
        if me.current_account
        else ", in no account yet"
    )
    return f"logged in to {found.url} as {me.user.email}{where}"


def _login(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url {args.url}: give it with its scheme, http:// or https://")
    found = Remote(url=args.url.rstrip("/"), token=read_key(), account_id=args.account_id)
    said = asyncio.run(_check(found))
    path = save(found)
    print(said)
    print(f"saved in {path} (readable only by you)", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = commands.add_parser(
        "login",
        help="check an API key against a running Asgard and remember both",
        description="The key is read from a prompt without echo, or from stdin when it is "
        "not a terminal. ASGARD_URL and ASGARD_TOKEN override what is saved.",
    )
    login.add_argument("--url", required=True, help="where Asgard answers, e.g. http://host:4898")
    login.add_argument(
        "--account-id", type=int, help="act in this account (default: the key's first)"
    )
    login.set_defaults(handler=_login)
