"""Telling the other Asgard processes on the same database that something changed.

Several processes share one database, and each keeps things in memory that another's
write can make wrong: the authentication cache (a key revoked, a role changed), the
workflow feed's last look (a workflow moved on by the runner in another process), the
clusters served (one registered, changed or removed through another process). On
PostgreSQL a change is announced with ``NOTIFY`` and heard with ``LISTEN`` on one
connection each process keeps for it, so the others act on it within milliseconds
rather than at their next poll. On SQLite (one host, usually one process) nothing is
sent and the others keep polling, as before: the authentication cache's time to live,
the workflow feed's interval.

A topic's handlers in this process are called when it publishes, too (unless they asked
for the others' notices only), so a publisher needs no second path for itself. When the
listening connection is lost, every topic's handlers are called once it is back: what
was announced meanwhile was not heard. Listening is a ``PeriodicLoop`` whose step lasts
as long as the connection does: losing it is a failure, reconnected after a back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from asgard.loops import PeriodicLoop
from asgard.tasks import cancel_and_wait

__all__ = ["Notices", "Topic"]

log = structlog.get_logger(__name__)

Topic = Literal["auth", "workflows", "clusters"]
TOPICS: tuple[Topic, ...] = ("auth", "workflows", "clusters")
CHANNEL = "asgard"
"""One channel; a notice's payload is ``<process>:<topic>``."""
RECONNECT_S = 1.0
RECONNECT_MAX_S = 30.0
CHECK_EVERY_S = 15.0
"""How often the listening connection is asked ``SELECT 1``: a connection cut without
a word (a network partition) is found out within this."""


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://...``) as asyncpg's own DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Notices:
    def __init__(self, url: str) -> None:
        self.enabled = make_url(url).get_backend_name() == "postgresql"
        self._dsn = asyncpg_dsn(url) if self.enabled else ""
        self.process = secrets.token_hex(6)
        self._handlers: dict[str, list[tuple[Callable[[], None], bool]]] = defaultdict(list)
        self._connection: Any = None
        self._sending = asyncio.Lock()
        self._sends: set[asyncio.Task[None]] = set()
        self._listened = False
        """A connection was tried before: the next one may have missed notices."""
        self.loop = PeriodicLoop(
            "notices",
            self._listen,
            every_s=RECONNECT_S,
            max_backoff_s=RECONNECT_MAX_S,
            expected=(OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError),
        )

    @property
    def listening(self) -> bool:
        """Notices from the other processes are heard now (so polling may slow down)."""
        return self._connection is not None and not self._connection.is_closed()

    def on(self, topic: Topic, handler: Callable[[], None], *, others_only: bool = False) -> None:
        """Call ``handler`` on every notice of ``topic``; with ``others_only``, not for
        this process's own (the workflow runner is not woken by its own moves)."""
        self._handlers[topic].append((handler, others_only))

    def publish(self, topic: Topic) -> None:
        """Tell every process, this one at once, the others through the database. Never
        fails the change it follows: a notice that cannot be sent is logged, and the
        others find out at their next poll."""
        self._deliver(topic, own=True)
        if self.listening:
            task = asyncio.get_running_loop().create_task(self._send(topic))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    def _deliver(self, topic: str, *, own: bool = False) -> None:
        for handler, others_only in self._handlers.get(topic, ()):
            if own and others_only:
                continue
            try:
                handler()
            except Exception as exc:  # one handler's bug must not stop the others
                log.warning("a notice's handler failed", topic=topic, error=repr(exc))

    async def _send(self, topic: Topic) -> None:
        try:
            async with self._sending:
                await self._connection.execute(
                    "SELECT pg_notify($1, $2)", CHANNEL, f"{self.process}:{topic}"
                )
        except Exception as exc:
            log.warning("a notice could not be sent", topic=topic, error=type(exc).__name__)

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        process, _, topic = payload.partition(":")
        if process != self.process:  # this process was told when it published
            self._deliver(topic)

    async def start(self) -> None:
        if self.enabled:
            await self.loop.start()

    async def _listen(self) -> None:
        """Listen until the connection is lost; after a loss, tell every topic first."""
        missed, self._listened = self._listened, True
        connection = await asyncpg.connect(self._dsn)
        try:
            await connection.add_listener(CHANNEL, self._received)
            self._connection = connection
            self.loop.recovered()
            if missed:
                log.info("listening for notices again")
                for topic in TOPICS:
                    self._deliver(topic)
            while not connection.is_closed():
                await asyncio.sleep(CHECK_EVERY_S)
                async with self._sending:
                    await connection.execute("SELECT 1")
        finally:
            self._connection = None
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def close(self) -> None:
        await self.loop.close()
        for task in list(self._sends):
            await cancel_and_wait(task)
