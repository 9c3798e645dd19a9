"""Workflow changes for ``GET /events``, read from the database.

Workflows live in Asgard's database, not in a cluster's change feed, and only one
process (the runner's lease holder) moves them on. So that a listener connected to
any process hears every change, each process looks at the workflows of the
accounts listening to it, and sends what changed since it last looked: a workflow
created, each move of the runner, its end, its removal. It looks when told a workflow
changed (``db.notices``: at once in the process that changed it, through PostgreSQL's
``NOTIFY`` in the others), and every ``interval_s`` while someone listens, or every
``QUIET_POLL_S`` while the notices are heard (a safety net, not the way news comes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from asgard import events
from asgard.db.engine import Database
from asgard.events import Audience, Event, EventHub
from asgard.loops import PeriodicLoop
from asgard.models import Account
from asgard.workflows.store import WorkflowStore

log = structlog.get_logger(__name__)

QUIET_POLL_S = 30.0
LINGER_S = 300.0
"""How long an account's workflows are still followed after its last listener left."""

Seen = dict[tuple[str, str], dict[str, Any]]
"""(cluster, workflow id) -> the workflow as last sent."""


@dataclass
class Listening:
    account: Account
    listeners: int = 0
    seen: Seen = field(default_factory=dict)
    left_at: float = 0.0
    """When its last listener left: it is followed ``LINGER_S`` longer, for a client that
    reconnects (its missed events are then sent, not a resync)."""


class WorkflowFeed:
    def __init__(self, db: Database, hub: EventHub, *, interval_s: float = 1.0) -> None:
        self.db = db
        self.hub = hub
        self.interval_s = interval_s
        self._listening: dict[int, Listening] = {}
        self.loop = PeriodicLoop(
            "workflow-feed",
            self.look,
            every_s=self._poll_s,
            wait_first=True,  # what exists when someone starts listening is the baseline
        )
        hub.on_interest(self._interest)
        db.notices.on("workflows", self.loop.poke)

    def _poll_s(self) -> float:
        return QUIET_POLL_S if self.db.notices.listening else self.interval_s

    async def _interest(self, account: Account, listening: bool) -> bool:
        """True when the account's workflows were followed already: nothing was missed."""
        entry = self._listening.get(account.id)
        if not listening:
            if entry is not None:
                entry.listeners -= 1
                entry.left_at = time.monotonic()
            return True
        followed = entry is not None
        if entry is None:
            # What exists when someone starts listening is the baseline, not news (if the
            # database cannot say now, the first look reports what exists as added).
            try:
                seen = await self._read(account)
            except Exception as exc:
                log.warning("reading workflows for /events failed", error=str(exc))
                seen = {}
            entry = Listening(account, seen=seen)
            self._listening[account.id] = entry
        entry.listeners += 1
        await self.loop.start()  # once someone listens
        return followed

    async def _read(self, account: Account) -> Seen:
        async with self.db.session() as session:
            stored = await WorkflowStore(session).of_account(account.id)
        return {
            (s.workflow.cluster, s.workflow.id): s.workflow.model_dump(mode="json") for s in stored
        }

    async def look(self) -> None:
        """Send what changed, for every account listening, since the last look; an account
        nobody has listened for in ``LINGER_S`` is no longer followed."""
        now_s = time.monotonic()
        for account_id, entry in list(self._listening.items()):
            if entry.listeners <= 0 and now_s - entry.left_at > LINGER_S:
                del self._listening[account_id]
                continue
            now = await self._read(entry.account)
            for event in changes(entry.seen, now):
                audience = Audience(cluster=event.cluster, namespace=entry.account.namespace)
                self.hub.publish(audience, [event])
            entry.seen = now

    async def close(self) -> None:
        await self.loop.close()


def changes(before: Seen, now: Seen) -> list[Event]:
    """The events of every cluster's workflows, as the caches make them for the rest."""
    clusters = {cluster for cluster, _ in before.keys() | now.keys()}
    return [
        event
        for cluster in sorted(clusters)
        for event in events.changes(
            "workflow",
            cluster,
            {w: flow for (c, w), flow in before.items() if c == cluster},
            {w: flow for (c, w), flow in now.items() if c == cluster},
        )
    ]
