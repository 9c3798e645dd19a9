"""The fleet as one account sees it: a line per cluster it may use, and the totals of all.

A fleet page is asked for far more often than a thousand clusters change, so a line is
made from what each cluster's cache holds now (``Orchestrator.held``: no call to the
cluster, no task per cluster), and each of its parts is kept while the cache entry it
was made from keeps its version (``KeptAnswers``): the page costs a lookup per cluster
and a sum per cluster that changed. Only a cluster whose cache holds nothing current
(never read for this account, its feed cut, known to be down) is read as the lists
read it (``fan_out_stale``): within its timeout, or what was last seen there when it
fails. The same rules as the lists: a viewer of the account, only its clusters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, Final, TypeVar, cast

from asgard.backends.cluster import Listed
from asgard.backends.contract import AgentsBackend, AppsBackend, Backend, JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import AllClustersFailed
from asgard.models import Account, Agent, ClusterErrorInfo, Resources, Role
from asgard.models.base import utc_now
from asgard.services.fleet_summary import (
    AgentSums,
    AppCounts,
    ClusterSummary,
    FleetTotals,
    JobCounts,
    MeteredSums,
    agent_sums,
    app_counts,
    cluster_summary,
    fleet_totals,
    job_counts,
    metered_sums,
)
from asgard.services.jobs import JobsService
from asgard.services.kept_answers import KeptAnswers
from asgard.services.principal import Principal
from asgard.usage_history import UsageHistory

__all__ = ["Fleet", "FleetService"]

T = TypeVar("T")
B = TypeVar("B", bound=Backend)
KEPT_PARTS: Final = 20_000
"""Parts kept: four per cluster and kind of account (namespace and owner)."""


@dataclass(frozen=True)
class Fleet:
    clusters: list[ClusterSummary]
    """By name."""
    totals: FleetTotals
    """Over every cluster of ``clusters``."""
    errors: list[ClusterErrorInfo] = field(default_factory=list)
    """The clusters whose lists could not be read now, each once."""


@dataclass
class _Read:
    """One listing of every cluster: what each holds (or said), and the failures."""

    found: dict[str, Listed] = field(default_factory=dict)
    errors: list[ClusterErrorInfo] = field(default_factory=list)


class FleetService:
    def __init__(
        self, orchestrator: Orchestrator, jobs: JobsService, history: UsageHistory | None
    ) -> None:
        self.orchestrator = orchestrator
        self.jobs = jobs
        self.history = history
        self.kept: KeptAnswers[Any] = KeptAnswers(KEPT_PARTS)

    async def overview(self, principal: Principal) -> Fleet:
        account = principal.require(Role.VIEWER)
        agents, apps, jobs = await asyncio.gather(
            self._read(account, AgentsBackend.list_agents),
            self._read(account, AppsBackend.list_apps),
            self._read(account, JobsBackend.list_jobs),
        )
        statuses = self.orchestrator.known_statuses(account)  # with what the reads told
        failures: dict[str, ClusterErrorInfo] = {}
        for error in (*agents.errors, *apps.errors, *jobs.errors):
            failures.setdefault(error.cluster, error)
        job_lines = {name: self._jobs(account, name, found) for name, found in jobs.found.items()}
        answered = {name: lines.ids for name, lines in job_lines.items()}
        for error in jobs.errors:  # its jobs are what was last seen: none can be told gone
            answered.pop(error.cluster, None)
        vanished = await self.jobs.vanished(account, answered)
        now = utc_now()
        rounds = self.history.rounds if self.history is not None else 0
        lines = []
        for status in statuses:
            name = status.name
            held_agents = agents.found.get(name)
            its_jobs = job_lines.get(name, JobCounts())
            if name in vanished:
                its_jobs = its_jobs.plus(vanished[name])
            lines.append(
                cluster_summary(
                    status,
                    failures.get(name),
                    self._agents(account, name, held_agents),
                    self._metered(account, name, held_agents, rounds),
                    self._apps(account, name, apps.found.get(name)),
                    its_jobs,
                    now,
                )
            )
        return Fleet(lines, fleet_totals(lines), list(failures.values()))

    # reading

    async def _read(
        self,
        account: Account,
        op: Callable[Concatenate[B, Account, ...], Awaitable[Sequence[Any]]],
    ) -> _Read:
        held, missing = self.orchestrator.held(account, op)
        read = _Read(found=held)
        if not missing:
            return read
        try:
            listing = await self.orchestrator.fan_out_stale(account, missing, op)
        except AllClustersFailed as failed:
            read.errors = [
                ClusterErrorInfo(cluster=f.cluster, msg=f.msg, kind=f.kind) for f in failed.failures
            ]
            return read
        read.errors = list(listing.errors)
        items: dict[str, list[Any]] = {name: [] for name in listing.as_of}
        for item in listing.items:
            items.setdefault(item.cluster, []).append(item)
        for name, found in items.items():
            version = listing.versions.get(name)
            read.found[name] = Listed(found, listing.as_of[name], version)
        return read

    # the parts of a line, each kept while its listing's version holds

    def _kept(self, key: Hashable, version: Hashable | None, make: Callable[[], T]) -> T:
        """The part kept for ``key`` at ``version``, else made (and kept, unless read live)."""
        kept = self.kept.get(key, version)
        if kept is None:
            kept = self.kept.put(key, version, make())
        return cast(T, kept)

    def _part(
        self, key: Hashable, listed: Listed | None, make: Callable[[list[Any]], T], empty: T
    ) -> T:
        if listed is None:
            return empty
        return self._kept(key, listed.version, lambda: make(listed.items))

    def _agents(self, account: Account, name: str, listed: Listed | None) -> AgentSums:
        key = ("agents", name, account.namespace, account.owner)
        return self._part(key, listed, agent_sums, AgentSums())

    def _metered(
        self, account: Account, name: str, listed: Listed | None, rounds: int
    ) -> MeteredSums:
        """Kept while the agents and the usage history's round are the same."""
        history = self.history
        if history is None or listed is None:
            return MeteredSums()

        def measured(agent: Agent) -> Resources | None:
            latest = history.latest(agent.cluster, agent.id)
            return None if latest is None else latest.measured_resources

        key = ("metered", name, account.namespace, account.owner)
        version = None if listed.version is None else (listed.version, rounds)
        return self._kept(key, version, lambda: metered_sums(listed.items, measured))

    def _apps(self, account: Account, name: str, listed: Listed | None) -> AppCounts:
        return self._part(("apps", name, account.namespace), listed, app_counts, AppCounts())

    def _jobs(self, account: Account, name: str, listed: Listed | None) -> JobCounts:
        return self._part(("jobs", name, account.namespace), listed, job_counts, JobCounts())
