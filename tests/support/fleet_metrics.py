"""A small fleet to scrape: the Kubernetes emulator with two accounts' apps and jobs, a
healthy static cluster whose feed a test can cut, and a Kubernetes cluster whose port
refuses every connection, under an Asgard on a real socket; and its ``/metrics`` read
with Prometheus' own text parser."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import AccountPatch, Role
from asgard.services.principal import SYSTEM
from testbed.asgard_process import free_port
from tests.conftest import KubeCluster, StartAsgard, build, emulated_api, kube_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.static_backend import StaticFeed, static_cluster

__all__ = ["Scraped", "ScrapedFleet", "scraped_fleet", "until_scraped"]

LAB_AGENTS = [{"id": "lab-1"}, {"id": "lab-2"}]
WAIT_S = 30.0
"""How long a change may take to show on /metrics: a limit, not a measurement."""


@dataclass
class Scraped:
    """One answer of ``/metrics``: every sample, by its name."""

    samples: list[Sample]

    def named(self, name: str, **labels: str) -> list[Sample]:
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        found = self.named(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {found}"
        return found[0].value

    def names(self) -> set[str]:
        """The metrics served: each sample's name, a histogram's by its family's name."""
        found = {s.name for s in self.samples}
        return found | {
            n.removesuffix(suffix)
            for n in found
            for suffix in ("_bucket", "_count", "_sum")
            if n.endswith(suffix)
        }

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """``name``'s values by one label's value, among the samples with ``labels``."""
        return {s.labels[label]: s.value for s in self.named(name, **labels)}

    @classmethod
    def of(cls, text: str) -> Scraped:
        families = text_string_to_metric_families(text)
        return cls([s for family in families for s in family.samples])


@dataclass
class ScrapedFleet:
    kube: KubeCluster
    lab_feed: StaticFeed
    asgard: AsgardUnderTest
    payments: Caller
    search: Caller
    gone_only: Caller
    """A member of an account that used ``k8s`` (its app ``old`` is there, its namespace
    held by the cache) and may now use the ``gone`` cluster only."""

    async def scrape(self, **headers: str) -> Scraped:
        response = await self.asgard.client.get("/metrics", headers=headers)
        text = await response.text()
        assert response.status == 200, text
        return Scraped.of(text)


async def until_scraped(
    fleet: ScrapedFleet, check: Callable[[Scraped], bool], what: str, **headers: str
) -> Scraped:
    """Scrape until ``check`` holds; fail naming ``what`` never showed."""
    deadline = time.monotonic() + WAIT_S
    while True:
        scraped = await fleet.scrape(**headers)
        if check(scraped):
            return scraped
        assert time.monotonic() < deadline, f"never on /metrics: {what}"
        await asyncio.sleep(0.2)


async def _deploy(caller: Caller, app_id: str, instances: int) -> None:
    spec: dict[str, Any] = {
        "cluster": "k8s",
        "id": app_id,
        "image": f"registry.example/{app_id}:1",
        "instances": instances,
    }
    await caller.json("POST", "/apps", status=201, json=spec)


async def _read_everything(*callers: Caller) -> None:
    """List what each caller sees, so that the caches hold each account's namespace."""
    for caller in callers:
        for path in ("/agents", "/apps", "/jobs"):
            await caller.json("GET", path)


@contextlib.asynccontextmanager
async def scraped_fleet(start_asgard: StartAsgard, **settings: Any) -> AsyncIterator[ScrapedFleet]:
    """``k8s`` (two nodes): ``payments`` runs ``web`` (2 instances) and ``api`` (1) and
    has one failed job, ``search`` runs ``index`` (3); ``lab``, a static cluster that
    answers; ``gone``, a Kubernetes API server that is not there. Every account's
    namespace read once; then ``gone-only``, which ran ``old`` on ``k8s``, is let use
    ``gone`` alone."""
    async with emulated_api() as (emulator, url, session):
        kube = await kube_cluster(emulator, url, session, timeout_s=3)
        await kube.controllers.add_node("node-1", cpu="4", memory="8Gi")
        await kube.controllers.add_node("node-2", cpu="2", memory="4Gi")
        lab = await static_cluster("lab", LAB_AGENTS)
        gone = await build(
            KubernetesClusterConfig(name="gone", url=f"http://127.0.0.1:{free_port()}", token="t")
        )
        assert isinstance(lab.feed, StaticFeed)
        fleet = Orchestrator([kube.cluster, lab, gone])
        hub = EventHub()
        fleet.enable_caches(hub)
        try:
            asgard = await start_asgard(fleet, hub=hub, **settings)
            payments = await asgard.account("payments")
            search = await asgard.account("search")
            gone_only = await asgard.account("gone-only", clusters=["k8s", "gone"])
            scraped = ScrapedFleet(
                kube,
                lab.feed,
                asgard,
                await asgard.caller("pay@example.com", roles={payments.id: Role.OPERATOR}),
                await asgard.caller("find@example.com", roles={search.id: Role.OPERATOR}),
                await asgard.caller("lab@example.com", roles={gone_only.id: Role.OPERATOR}),
            )
            await _deploy(scraped.payments, "web", 2)
            await _deploy(scraped.payments, "api", 1)
            await _deploy(scraped.search, "index", 3)
            await _deploy(scraped.gone_only, "old", 1)
            job = {"cluster": "k8s", "name": "etl", "image": "etl:1", "command": ["run"]}
            failed = (await scraped.payments.json("POST", "/jobs", status=201, json=job))["job"]
            await kube.controllers.end_job("payments", failed["id"], 3)
            await kube.controllers.reconcile()
            await _read_everything(scraped.payments, scraped.search, scraped.gone_only)
            await asgard.services.accounts.update(
                SYSTEM, gone_only.id, AccountPatch(clusters=["gone"])
            )
            yield scraped
        finally:
            await fleet.close()
