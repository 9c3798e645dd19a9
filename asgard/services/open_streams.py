"""Long-lived answers (``/events``, followed logs) end when the access they were opened
with is taken away.

A request is authenticated once, when it starts; a stream it opens can last for days.
So every stream is held here under what it was opened with (a ``Grant``: the user, the
API key, the dashboard session, the account and the role it needs), and is checked
again:

- at once, on every change to keys, users, accounts, memberships or sessions: the
  ``auth`` notice, heard in the process that made the change and, on PostgreSQL,
  through ``NOTIFY`` in every other process. From the notice until the check is done,
  every stream holds its output (``Held.vetted``), so nothing is sent on a stream whose
  access was taken away once the change that took it is known;
- every ``period_s`` (the authentication cache time), for the changes no notice tells
  (another process on SQLite, the ``asgard`` command, a notice lost with the listening
  connection).

The check reads the database, never the authentication cache: a stream ends within
``period_s`` of a change wherever it was made. A check the database cannot answer ends
nothing (the streams go on, and the next period tries again).

The rule is the one a new request meets: a stream ends when its principal could no
longer open it, that is when its user is deleted, its key revoked, its session ended
(logged out or expired), or its user is no longer a member of the stream's account with
at least the role the stream needs (every stream is a read: ``viewer``). A change of
role that keeps the user a member (``operator`` to ``viewer``) keeps its streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.engine import Database
from asgard.db.stores import ApiKeyStore, MembershipStore, UserStore
from asgard.db.ui_sessions import UiSessionStore
from asgard.errors import DatabaseUnavailable, NotFound
from asgard.loops import PeriodicLoop
from asgard.models import Role
from asgard.models.base import utc_now
from asgard.tasks import cancel_and_wait

__all__ = ["Grant", "Held", "OpenStreams"]

log = structlog.get_logger(__name__)

MIN_PERIOD_S = 1.0
"""The periodic check runs at most this often, whatever the cache time (0 disables the
cache, not the check)."""


@dataclass(frozen=True)
class Grant:
    """What a stream was opened with, and what it needs to go on."""

    user_id: int
    key_id: int | None
    """The API key of the request, or the key its JWT or dashboard session was made from."""
    session: str | None
    """The dashboard session (its token's hash) of a request made with the cookie."""
    account_id: int
    role: Role = Role.VIEWER


@dataclass(eq=False)
class Held:
    """One open stream: told to end (``ended``, with ``reason``), and told to wait while
    its grant is being checked again (``vetted`` is clear meanwhile)."""

    grant: Grant
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    vetted: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""

    def __post_init__(self) -> None:
        self.vetted.set()

    def end(self, reason: str) -> None:
        self.reason = reason
        self.ended.set()
        self.vetted.set()


class OpenStreams:
    """The streams open in this process, by grant; see the module's docstring."""

    def __init__(self, db: Database, period_s: float) -> None:
        self.db = db
        self.period_s = max(MIN_PERIOD_S, period_s)
        self._held: dict[Grant, set[Held]] = {}
        self._pending = False
        self._generation = 0
        """Counts the notices: a check lets streams go on only if none came since it began."""
        self._check: asyncio.Task[None] | None = None
        self.loop = PeriodicLoop(
            "open-streams", self._check_held, every_s=self.period_s, wait_first=True
        )
        db.notices.on("auth", self.changed)

    @property
    def count(self) -> int:
        return sum(len(held) for held in self._held.values())

    @contextlib.contextmanager
    def hold(self, grant: Grant) -> Iterator[Held]:
        """Hold a stream for as long as the ``with`` lasts."""
        held = Held(grant)
        self._held.setdefault(grant, set()).add(held)
        try:
            yield held
        finally:
            group = self._held.get(grant)
            if group is not None:
                group.discard(held)
                if not group:
                    del self._held[grant]

    def changed(self) -> None:
        """Told of a change to who may do what: every stream waits until checked again."""
        if not self._held:
            return
        for group in self._held.values():
            for held in group:
                held.vetted.clear()
        self._pending = True
        self._generation += 1
        if self._check is None or self._check.done():
            self._check = asyncio.get_running_loop().create_task(self._check_pending())

    async def _check_pending(self) -> None:
        """Check again until no notice came meanwhile (notices in a burst cost one check)."""
        while self._pending:
            self._pending = False
            await self.check()

    async def check(self) -> None:
        """Check every stream's grant against the database now; end those refused. The
        streams waiting for it go on whatever happens (a database that does not answer
        ends nothing: the next period tries again)."""
        grants, generation = list(self._held), self._generation
        refusals: dict[Grant, str | None] = {}
        try:
            async with self.db.session() as session:
                for grant in grants:
                    refusals[grant] = await _refusal(session, grant)
        except DatabaseUnavailable as exc:
            log.warning("open streams not checked: the database does not answer", error=str(exc))
        except Exception as exc:  # a bug here must not hold every stream up
            log.warning("open streams not checked", error=repr(exc))
        finally:
            self._settle(grants, refusals, current=generation == self._generation)

    def _settle(
        self, grants: list[Grant], refusals: dict[Grant, str | None], *, current: bool
    ) -> None:
        """End the refused; let the others go on, unless a newer notice wants them checked
        again (``current`` is False: the check that notice started will say)."""
        ended = 0
        for grant in grants:
            reason = refusals.get(grant)
            for held in list(self._held.get(grant, ())):
                if reason is not None:
                    held.end(reason)
                    ended += 1
                elif current:
                    held.vetted.set()
        if ended:
            log.info("streams ended: their access was taken away", streams=ended)

    async def start(self) -> None:
        await self.loop.start()

    async def _check_held(self) -> None:
        if self._held:
            await self.check()

    async def close(self) -> None:
        await self.loop.close()
        await cancel_and_wait(self._check)
        self._check = None


async def _refusal(session: AsyncSession, grant: Grant) -> str | None:
    """Why ``grant`` would be refused now, or None while it holds."""
    try:
        await UserStore(session).get(grant.user_id)
    except NotFound:
        return "the user was deleted"
    if grant.key_id is not None:
        key = await ApiKeyStore(session).by_id(grant.key_id)
        if key is None or key.user_id != grant.user_id:
            return "the API key was revoked"
    if grant.session is not None:
        stored = await UiSessionStore(session).by_hash(grant.session)
        if stored is None or stored.expires_at <= utc_now():
            return "the dashboard session ended"
    role = await MembershipStore(session).role(grant.user_id, grant.account_id)
    if role is None:
        return f"the user is no longer a member of account {grant.account_id}"
    if not role.allows(grant.role):
        return f"role '{role.value}' in account {grant.account_id} cannot read this"
    return None
