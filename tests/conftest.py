"""Shared fixtures: real Docker Engines, a real PostgreSQL, and Asgard itself.

The daemons and the database server start once per test session, the first
time a test needs them; each test then gets them cleaned, never shared dirty.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import kmock
import pytest
from aiohttp.test_utils import TestClient, TestServer

from asgard.backends.cluster import Cluster
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext, ClusterConfig, installed_plugins
from asgard.clusters import assemble
from asgard.db.engine import Database, upgrade, upgrade_sync
from asgard.events import EventHub
from asgard.job_tokens import JobTokens
from asgard.server import create_app
from asgard.settings import Settings
from testbed.kube import ApiServer, Emulator
from tests.support import worker_groups
from tests.support.asgard import AsgardClient, AsgardUnderTest
from tests.support.dockerd import DockerDaemon, start_daemon
from tests.support.imported_first import import_every_module
from tests.support.kube_controllers import RESOURCES, Controllers
from tests.support.mesos_fakes import FakeChronos, FakeMarathon, FakeMesos
from tests.support.podman import PodmanService, start_podman
from tests.support.postgres import Postgres, start_postgres
from tests.support.resources import mark_items, needs
from tests.support.scratch import scratch_dir
from tests.support.static_backend import static_cluster

SECRETS = re.compile(
    r"asg_[a-z0-9]+_[A-Za-z0-9_-]{16,}"  # an API key
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JWT
)
LEAKS: dict[str, None] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Every line the code under test wrote (logs included) is read for credentials."""
    for name, text in report.sections:
        for line in text.splitlines():
            if SECRETS.search(line):
                LEAKS[f"{report.nodeid} ({name}): {SECRETS.sub('<secret>', line)[:300]}"] = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test marked with the servers it needs (``-m "not docker"`` and the like then
    select by them), and grouped with the tests it must share a worker with."""
    worker_groups.record(config, mark_items(items))


def pytest_configure(config: pytest.Config) -> None:
    worker_groups.configure(config)
    import_every_module()


def pytest_unconfigure(config: pytest.Config) -> None:
    worker_groups.unconfigure(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    worker_groups.configure_node(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return worker_groups.scheduler(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session fails if a key or a JWT was written anywhere a log goes."""
    if LEAKS:
        print("\ncredentials written to the output of the test session:", *LEAKS, sep="\n  ")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


THIRD_PARTY_ENTRY_POINTS = """[asgard.backends]
static = tests.support.static_backend:plugin
"""


@pytest.fixture(scope="session", autouse=True)
def third_party_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Install the test-only ``static`` kind the way another package would: an entry point."""
    site = tmp_path_factory.mktemp("site")
    dist = site / "asgard_static-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: asgard-static\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(THIRD_PARTY_ENTRY_POINTS)
    sys.path.insert(0, str(site))
    installed_plugins.cache_clear()
    yield site
    sys.path.remove(str(site))
    installed_plugins.cache_clear()


@pytest.fixture(scope="session")
@needs("docker")
def engine_daemon() -> Iterator[DockerDaemon]:
    """A single Docker Engine (not in a Swarm)."""
    daemon = start_daemon("engine")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
@needs("swarm")
def swarm_daemon() -> Iterator[DockerDaemon]:
    """A Docker Engine that is a one-node Swarm manager."""
    daemon = start_daemon("swarm", swarm=True)
    yield daemon
    daemon.stop()


@pytest.fixture
def engine(engine_daemon: DockerDaemon) -> Iterator[DockerDaemon]:
    engine_daemon.clean()
    engine_daemon.set_labels({})
    yield engine_daemon
    engine_daemon.clean()


@pytest.fixture
def swarm(swarm_daemon: DockerDaemon) -> Iterator[DockerDaemon]:
    swarm_daemon.clean()
    node = swarm_daemon.cli("node", "ls", "-q").split()[0]
    labels = swarm_daemon.cli(
        "node", "inspect", node, "--format", "{{range $k, $v := .Spec.Labels}}{{$k}} {{end}}"
    )
    for label in labels.split():
        swarm_daemon.cli("node", "update", "--label-rm", label, node)
    yield swarm_daemon
    swarm_daemon.clean()


@pytest.fixture(scope="session")
@needs("podman")
def podman_service() -> Iterator[PodmanService]:
    """Podman's Docker-compatible service (rootful, storage of its own)."""
    service = start_podman()
    yield service
    service.stop()


@pytest.fixture
def podman(podman_service: PodmanService) -> Iterator[PodmanService]:
    podman_service.clean()
    yield podman_service
    podman_service.clean()


@pytest.fixture(scope="session")
@needs("postgres")
def postgres_server() -> Iterator[Postgres]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(
    params=[pytest.param(None, id="sqlite"), pytest.param("postgres_server", id="postgresql")]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs on SQLite and on a real PostgreSQL (the parameter
    names the fixture, so that the test is marked ``postgres``)."""
    if request.param is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'asgard.db'}"
    server: Postgres = request.getfixturevalue(request.param)
    return server.new_database()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database, on SQLite and on PostgreSQL (``db_url``'s two runs)."""
    await upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file with the newest schema: Asgard starting on it finds nothing to
    migrate. (``db_url``'s SQLite file is empty, for the tests of migrating.)"""
    return migrated_sqlite(tmp_path / "asgard.db")


_MIGRATED: dict[str, Path] = {}


def migrated_sqlite(target: Path) -> str:
    """A copy at ``target`` of an SQLite file this process migrated once: every migration
    run on a new file took a tenth of the CPU of the tests that start Asgard in-process."""
    if "template" not in _MIGRATED:
        template = scratch_dir() / "migrated.db"
        with concurrent.futures.ThreadPoolExecutor(1) as thread:  # alembic runs a loop
            thread.submit(upgrade_sync, f"sqlite+aiosqlite:///{template}").result()
        _MIGRATED["template"] = template
    shutil.copyfile(_MIGRATED["template"], target)
    return f"sqlite+aiosqlite:///{target}"


TEST_SECRET_KEY = "test-secret-key-of-a-decent-length"


def backend_context(data_dir: Path | None = None, public_url: str | None = None) -> BackendContext:
    """What backends built by tests get; the key matches the one Asgard under test uses."""
    data = data_dir or scratch_dir()
    return BackendContext.local(data, TEST_SECRET_KEY, public_url)


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": db_url,
        "data_dir": tmp_path / "data",
        "secret_key": TEST_SECRET_KEY,
        "log_format": "console",
        **overrides,
    }
    return Settings(**values)


async def build(config: ClusterConfig, context: BackendContext | None = None) -> Cluster:
    """One cluster as the server assembles it (without a cache: no change feed runs)."""
    return await assemble(config, context or backend_context())


async def docker_cluster(name: str, daemon: DockerDaemon, timeout_s: float = 10.0) -> Cluster:
    return await build(DockerClusterConfig(name=name, url=daemon.url, timeout_s=timeout_s))


StartAsgard = Callable[..., Awaitable[AsgardUnderTest]]


@pytest.fixture
async def start_asgard(tmp_path: Path, sqlite_url: str) -> AsyncIterator[StartAsgard]:
    """Start Asgard on a real socket: ``await start_asgard(orchestrator, **settings)``."""
    clients: list[AsgardClient] = []

    async def start(
        orchestrator: Orchestrator | None = None,
        *,
        db_url: str | None = None,
        hub: EventHub | None = None,
        **overrides: Any,
    ) -> AsgardUnderTest:
        settings = make_settings(tmp_path, db_url or sqlite_url, **overrides)
        app = create_app(settings, orchestrator=orchestrator or Orchestrator([]), hub=hub)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return AsgardUnderTest(client, app)

    yield start
    for client in clients:
        await client.close()


@dataclass
class KubeCluster:
    """A Kubernetes emulator on a real port, the tests' controllers, and Asgard's view of it."""

    emulator: Emulator
    controllers: Controllers
    cluster: Cluster
    orchestrator: Orchestrator
    """Of that one cluster."""
    url: str
    tokens: JobTokens
    context: BackendContext


async def kube_cluster(
    emulator: Emulator,
    url: str,
    session: aiohttp.ClientSession,
    *,
    name: str = "k8s",
    **config: Any,
) -> KubeCluster:
    from asgard.backends.kubernetes.config import KubernetesClusterConfig

    context = backend_context(public_url=config.pop("public_url", "http://asgard.invalid:4898"))
    settings = {
        "name": name,
        "url": url,
        "token": "test-token",
        "timeout_s": 5,
        "page_size": 3,
        **config,
    }
    cluster = await build(KubernetesClusterConfig(**settings), context)
    return KubeCluster(
        emulator,
        Controllers(emulator, url, session),
        cluster,
        Orchestrator([cluster]),
        url,
        context.job_tokens,
        context,
    )


@dataclass
class KubeThatCanFail:
    """The emulator on a port that can go away and come back (``server.stop()`` and
    ``start()``), beside the healthy static cluster ``lab``, under an Asgard on a real socket."""

    kube: KubeCluster
    server: ApiServer
    asgard: AsgardUnderTest


@contextlib.asynccontextmanager
async def kube_that_can_fail(
    start_asgard: StartAsgard, *, nodes: int = 2, timeout_s: float = 3.0, **settings: Any
) -> AsyncIterator[KubeThatCanFail]:
    """``node-1`` (4 CPUs, 8 GiB) and, with ``nodes=2``, ``node-2`` (2 CPUs, 4 GiB)."""
    async with (
        Emulator() as emulator,
        ApiServer(emulator) as server,
        aiohttp.ClientSession() as session,
    ):
        for resource in RESOURCES:
            emulator.resources[resource] = kmock.ResourceInfo()
        kube = await kube_cluster(emulator, server.url, session, timeout_s=timeout_s)
        await kube.controllers.add_node("node-1", cpu="4", memory="8Gi")
        if nodes > 1:
            await kube.controllers.add_node("node-2", cpu="2", memory="4Gi")
        fleet = Orchestrator([kube.cluster, await static_cluster("lab", [{"id": "a1"}])])
        hub = EventHub()
        fleet.enable_caches(hub)
        try:
            yield KubeThatCanFail(kube, server, await start_asgard(fleet, hub=hub, **settings))
        finally:
            await fleet.close()


@contextlib.asynccontextmanager
async def emulated_api() -> AsyncIterator[tuple[Emulator, str, aiohttp.ClientSession]]:
    """The Kubernetes API emulator on a real port, every resource the tests use declared;
    its URL, and a session for the controllers the tests play."""
    async with (
        Emulator() as emulator,
        kmock.Server(emulator) as server,
        aiohttp.ClientSession() as session,
    ):
        for resource in RESOURCES:
            emulator.resources[resource] = kmock.ResourceInfo()
        yield emulator, str(server.url).rstrip("/"), session


@contextlib.asynccontextmanager
async def running_kube(**config: Any) -> AsyncIterator[KubeCluster]:
    """An emulator with two nodes, and the cluster ``k8s`` built on it and started."""
    async with emulated_api() as (emulator, url, session):
        cluster = await kube_cluster(emulator, url, session, **config)
        await cluster.controllers.add_node("node-1", cpu="4", memory="8Gi")
        await cluster.controllers.add_node("node-2", cpu="2", memory="4Gi", labels={"zone": "b"})
        await cluster.orchestrator.start()
        try:
            yield cluster
        finally:
            await cluster.orchestrator.close()


@pytest.fixture
async def kube() -> AsyncIterator[KubeCluster]:
    async with running_kube() as cluster:
        yield cluster


@dataclass
class MesosCluster:
    """Fake masters, agents, Marathons and Chronos, and Asgard's view of them."""

    mesos: FakeMesos
    marathon: FakeMarathon
    chronos: FakeChronos
    cluster: Cluster
    orchestrator: Orchestrator
    """Of that one cluster."""


@contextlib.asynccontextmanager
async def running_mesos(
    *, recorded_containers: bool = True, **config: Any
) -> AsyncIterator[MesosCluster]:
    from asgard.backends.mesos.config import MesosClusterConfig

    mesos = FakeMesos(recorded_containers=recorded_containers)
    marathon = FakeMarathon(mesos)
    chronos = FakeChronos()
    async with mesos.running(), marathon.running(), chronos.running():
        settings = {
            "name": "mesos",
            "mesos_urls": mesos.urls,
            "marathon_urls": marathon.urls,
            "chronos_url": chronos.url,
            "timeout_s": 3,
            **config,
        }
        cluster = await build(MesosClusterConfig(**settings))
        orchestrator = Orchestrator([cluster])
        try:
            yield MesosCluster(mesos, marathon, chronos, cluster, orchestrator)
        finally:
            await orchestrator.close()


@pytest.fixture
async def mesos() -> AsyncIterator[MesosCluster]:
    async with running_mesos() as cluster:
        yield cluster
