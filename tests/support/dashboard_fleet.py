"""The fleet the dashboard's browser tests look at: one real ``asgard serve`` holding a
cluster of each kind, with something in every list, and the levers to change it behind
Asgard's back.

- ``docker``: a real Docker Engine of its own (``tests.support.dockerd``), which a test can
  halt and resume;
- ``k8s``: the Kubernetes emulator with two nodes, whose Deployments get their pods from
  the tests' controllers, reconciling every second as a controller manager would;
- ``mesos``: the fake Mesos masters and agents, Marathons and Chronos (the recorded
  fixtures), which a test can take down all at once and bring back.

Two users of the account ``dev``: an admin and a viewer, each with an API key, made
as the ``asgard`` command makes them; the admin is also an operator of a
second account, ``lab``, so the account switcher has something to switch to. Everything
in the lists is made through the HTTP API, as a user would.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import kmock

from asgard import cli
from asgard.models import Role
from asgard.settings import Settings
from testbed.asgard_process import RunningAsgard, running_asgard
from testbed.kube import Emulator
from tests.support.dashboard_data import fill
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon, start_daemon
from tests.support.kube_controllers import RESOURCES, Controllers
from tests.support.loop_thread import LoopThread
from tests.support.mesos_fakes import FakeChronos, FakeMarathon, FakeMesos, Misbehaviour
from tests.support.remote import Answer, Api

NAMESPACE = "dev"
ADMIN_EMAIL = "ops@example.com"
VIEWER_EMAIL = "viewer@example.com"
RECONCILE_EVERY_S = 1.0
FAST = {"probe_s": 1, "retry_down_s": 1}
"""Each cluster asked often, so a fault and its end show within a few seconds."""

__all__ = ["DashboardFleet", "dashboard_fleet"]


@dataclass
class Kube:
    emulator: Emulator
    url: str
    controllers: Controllers


@dataclass
class Mesos:
    mesos: FakeMesos
    marathon: FakeMarathon
    chronos: FakeChronos

    def misbehaviours(self) -> list[Misbehaviour]:
        return [
            *self.mesos.misbehaviour,
            *self.marathon.misbehaviour,
            self.chronos.misbehaviour,
        ]


@dataclass
class DashboardFleet:
    """What the tests hold: the server, the two keys, and each cluster's own controls."""

    loop: LoopThread
    asgard: RunningAsgard
    session: aiohttp.ClientSession
    admin_key: str
    viewer_key: str
    daemon: DockerDaemon
    kube: Kube
    mesos: Mesos

    @property
    def url(self) -> str:
        return self.asgard.url

    def call(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> Answer:
        """One request to the HTTP API, as the admin unless ``key`` says otherwise."""
        api = Api(self.session, self.url, key or self.admin_key)
        return self.loop.run(api.call(method, path, **kwargs), 60)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status == status, f"{method} {path}: {answer.status} {answer.text}"
        return answer.body

    # behind Asgard's back

    def scale_deployment(self, name: str, replicas: int) -> None:
        """Someone runs ``kubectl scale``; the controllers make the pods."""
        path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}"
        self.loop.run(self.kube.controllers.call("PATCH", path, {"spec": {"replicas": replicas}}))

    def start_container(self, app: str) -> str:
        """Someone runs ``docker run`` with Asgard's labels: a new app, to Asgard."""
        return self.daemon.cli(
            "run", "-d", "--label", f"asgard.namespace={NAMESPACE}", "--label",
            f"asgard.app={app}", TEST_IMAGE, *SERVE_FOREVER,
        ).strip()  # fmt: skip

    def mesos_down(self) -> None:
        """Every master, Marathon and Chronos stops answering (connections reset)."""
        for misbehaviour in self.mesos.misbehaviours():
            misbehaviour.down = True
        self.loop.loop.call_soon_threadsafe(self.mesos.marathon.cut_event_streams)

    def mesos_up(self) -> None:
        for misbehaviour in self.mesos.misbehaviours():
            misbehaviour.down = False

    def wait_until_current(self, limit_s: float = 60) -> None:
        """Every cluster answering and its cache current, as ``GET /clusters`` says."""
        deadline = time.monotonic() + limit_s
        clusters: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            clusters = self.ok("GET", "/clusters")["clusters"]
            if len(clusters) == 3 and all(
                c["status"] == "ok" and c.get("cache") == "current" for c in clusters
            ):
                return
            time.sleep(0.2)
        raise AssertionError(f"the clusters never all became current: {clusters}")


async def make_users(folder: Path) -> tuple[str, str]:
    """The accounts, the two users and their keys, made by what the ``asgard`` command
    runs (called here rather than started ten times, at seconds a start), in the
    database and data folder ``running_asgard`` gives the server; the admin's key and the
    viewer's."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    settings = Settings(db_url=f"sqlite:///{folder / 'asgard.db'}", data_dir=folder / "data")
    for email, name in ((ADMIN_EMAIL, "Olga Ops"), (VIEWER_EMAIL, "Vic Viewer")):
        await cli.create_user(settings, email, name, False)
    for account in (NAMESPACE, "lab"):
        await cli.create_account(settings, account, account, None)
    for account, email, role in (
        (NAMESPACE, ADMIN_EMAIL, Role.ADMIN),
        ("lab", ADMIN_EMAIL, Role.OPERATOR),
        (NAMESPACE, VIEWER_EMAIL, Role.VIEWER),
    ):
        await cli.add_user(settings, account, email, role)
    admin = await cli.create_token(settings, ADMIN_EMAIL, "dashboard tests")
    viewer = await cli.create_token(settings, VIEWER_EMAIL, "dashboard tests")
    return admin, viewer


@contextlib.asynccontextmanager
async def kube_running() -> AsyncIterator[Kube]:
    # forget_requests: a log of every request, watches included, would only grow here
    async with (
        Emulator(forget_requests=True) as emulator,
        kmock.Server(emulator) as server,
        aiohttp.ClientSession() as session,
    ):
        for resource in RESOURCES:
            emulator.resources[resource] = kmock.ResourceInfo()
        url = str(server.url).rstrip("/")
        controllers = Controllers(emulator, url, session)
        await controllers.add_node("node-1", cpu="4", memory="8Gi")
        await controllers.add_node("node-2", cpu="2", memory="4Gi", labels={"zone": "b"})

        async def reconciling() -> None:
            while True:
                with contextlib.suppress(AssertionError, aiohttp.ClientError):
                    await controllers.reconcile()
                await asyncio.sleep(RECONCILE_EVERY_S)

        task = asyncio.create_task(reconciling())
        try:
            yield Kube(emulator, url, controllers)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def mesos_running() -> AsyncIterator[Mesos]:
    mesos = FakeMesos()
    marathon = FakeMarathon(mesos)
    chronos = FakeChronos()
    async with mesos.running(), marathon.running(), chronos.running():
        yield Mesos(mesos, marathon, chronos)


@contextlib.asynccontextmanager
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Made on the loop that will use it (a session binds to the loop it is made on)."""
    async with aiohttp.ClientSession() as session:
        yield session


def cluster_configs(daemon: DockerDaemon, kube: Kube, mesos: Mesos) -> list[dict[str, Any]]:
    return [
        {"name": "docker", "kind": "docker", "url": daemon.url, "timeout_s": 10, **FAST},
        {"name": "k8s", "kind": "kubernetes", "url": kube.url, "token": "t", "timeout_s": 10,
         **FAST},
        {"name": "mesos", "kind": "mesos", "mesos_urls": mesos.mesos.urls,
         "marathon_urls": mesos.marathon.urls, "chronos_url": mesos.chronos.url,
         "timeout_s": 5, "poll_s": 1, **FAST},
    ]  # fmt: skip


@contextlib.contextmanager
def dashboard_fleet(folder: Path) -> Iterator[DashboardFleet]:
    """Start it all, fill the lists, wait until every cache is current; stop it all after."""
    loop = LoopThread()
    daemon = start_daemon("ui")
    try:
        admin_key, viewer_key = loop.run(make_users(folder / "asgard"))
        kube = loop.enter(kube_running())
        mesos = loop.enter(mesos_running())
        session = loop.enter(client_session())
        settings = {"ASGARD_PUBLIC_URL": "http://asgard.invalid:4898"}
        clusters = cluster_configs(daemon, kube, mesos)
        asgard = loop.enter(
            running_asgard(folder / "asgard", clusters, key=admin_key, settings=settings)
        )
        fleet = DashboardFleet(loop, asgard, session, admin_key, viewer_key, daemon, kube, mesos)
        fill(fleet)
        fleet.wait_until_current()
        yield fleet
    finally:
        try:
            loop.close()
        finally:
            daemon.stop()
