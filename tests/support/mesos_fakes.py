"""Fake Mesos masters and agents, Marathons and a Chronos, serving recorded JSON.

No Mesos, Marathon or Chronos can run here. These servers speak their HTTP
APIs as the real ones do (checked against their documentation), start from
the JSON recorded from a real installation (``tests/fixtures/mesos``), keep
state for writes, and can be told to move the leader, to answer slowly, or to
go down. They listen on loopback only; each agent gets a loopback address of
its own (127.0.0.N) on one shared port, as agents on a network would.
A Marathon leader can move (``FakeMarathon.move_leader``), taking its event
streams with it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mesos"
Obj = dict[str, Any]
RUNTIME_FIELDS = frozenset(
    {"tasks", "deployments", "tasksRunning", "tasksStaged", "tasksHealthy", "tasksUnhealthy"}
)
"""What Marathon tells of an app as it runs, not of its definition."""


BUSY_SHARE = 0.5
"""How much of its CPU limit each executor of the fake agents keeps busy (so an agent never
uses more than it has, as its cgroups would see to)."""


def fixture(*parts: str) -> Any:
    return json.loads((FIXTURES.joinpath(*parts)).read_text())


async def serve(app: web.Application, host: str, port: int = 0) -> tuple[web.AppRunner, int]:
    # A client that goes away cancels its handler, as a real server notices: an event
    # stream a client closed does not linger as a listener.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, int(bound)


@dataclass
class Misbehaviour:
    """What a server is told to do wrong."""

    down: bool = False
    """Answer nothing: the connection is reset."""
    slow_s: float = 0.0
    """Answer this late."""

    async def apply(self, request: web.Request) -> None:
        if self.slow_s:
            await asyncio.sleep(self.slow_s)
        if self.down:
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError()


# Mesos


@dataclass
class FakeAgent:
    info: Obj
    containers: list[Obj] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    directories: dict[str, str] = field(default_factory=dict)
    """Executor id -> sandbox directory, as the agent's /state lists them."""


class FakeMesos:
    """Masters that agree on a leader, and the agents they know."""

    def __init__(self, masters: int = 3, *, recorded_containers: bool = True) -> None:
        self.agents: dict[str, FakeAgent] = {}
        for number, folder in enumerate(sorted((FIXTURES / "agents").iterdir()), start=2):
            info = fixture("agents", folder.name, "info.json")
            info["hostname"] = f"127.0.0.{number}"
            containers = (
                fixture("agents", folder.name, "containers.json") if recorded_containers else []
            )
            self.agents[info["id"]] = FakeAgent(info=info, containers=containers)
        self.count = masters
        self.leader = 0
        self.misbehaviour = [Misbehaviour() for _ in range(masters)]
        self.ports: list[int] = []
        self.agent_port = 0
        self.agent_delay_s = 0.0  # every agent answers this late
        self.agents_in_flight = 0
        self.agents_in_flight_peak = 0  # how many agent requests were open at once, at most
        self.requests: list[tuple[int, str, dict[str, str]]] = []
        self.file_reads: list[tuple[str, int]] = []  # (path, offset) of each /files/read
        self.tasks: list[Obj] = []
        self.cpu_clock = 0.0

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def _master(self, number: int) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            await self.misbehaviour[number].apply(request)
            self.requests.append((number, request.path, dict(request.query)))
            leader = f"//127.0.0.1:{self.ports[self.leader]}"
            if request.path in ("/master/redirect", "/redirect"):
                raise web.HTTPTemporaryRedirect(leader)
            if number != self.leader:
                raise web.HTTPTemporaryRedirect(f"{leader}{request.path_qs}")
            if request.path == "/version":
                return web.json_response({"version": "1.4.1", "git_tag": "1.4.1"})
            if request.path == "/master/slaves":
                wanted = request.query.get("slave_id")
                agents = [
                    copy.deepcopy(a.info)
                    for a in self.agents.values()
                    if wanted in (None, a.info["id"])
                ]
                return web.json_response({"slaves": agents})
            if request.path == "/master/tasks":
                offset, limit = (
                    int(request.query.get("offset", 0)),
                    int(request.query.get("limit", 100)),
                )
                return web.json_response({"tasks": self.tasks[offset : offset + limit]})
            if request.path in ("/master/state", "/state", "/master/state.json"):
                return web.json_response({"message": "too heavy: do not ask for it"}, status=500)
            raise web.HTTPNotFound()

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    def _agents(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.agents_in_flight += 1
            self.agents_in_flight_peak = max(self.agents_in_flight_peak, self.agents_in_flight)
            try:
                await asyncio.sleep(self.agent_delay_s)
                return await answer(request)
            finally:
                self.agents_in_flight -= 1

        async def answer(request: web.Request) -> web.StreamResponse:
            agent = next(
                (a for a in self.agents.values() if a.info["hostname"] == request.url.host), None
            )
            if agent is None:
                raise web.HTTPNotFound()
            if request.path == "/containers":
                self.cpu_clock += 0.25  # one more read: the CFS counters move on
                now = time.time()
                found = copy.deepcopy(agent.containers)
                for container in found:
                    statistics = container.setdefault("statistics", {})
                    statistics["timestamp"] = now
                    # Every executor keeps half its limit busy, as the clock runs: two
                    # reads of an agent, however many other agents were read between them.
                    busy = BUSY_SHARE * float(statistics.get("cpus_limit", 1.0))
                    statistics["cpus_user_time_secs"] = (
                        statistics.get("cpus_user_time_secs", 0) + busy * now
                    )
                    # The CFS counters advance as a cgroup's do: one period in ten throttled.
                    reads = self.cpu_clock / 0.25
                    statistics["cpus_nr_periods"] = int(
                        statistics.get("cpus_nr_periods", 0) + 100 * reads
                    )
                    statistics["cpus_nr_throttled"] = int(
                        statistics.get("cpus_nr_throttled", 0) + 10 * reads
                    )
                return web.json_response(found)
            if request.path == "/state":
                executors = [{"id": e, "directory": d} for e, d in agent.directories.items()]
                return web.json_response(
                    {
                        "id": agent.info["id"],
                        "frameworks": [{"id": "marathon", "executors": executors}],
                    }
                )
            if request.path == "/files/read":
                path = request.query["path"]
                if path not in agent.files:
                    raise web.HTTPNotFound()
                data = agent.files[path].encode()
                offset, length = (
                    int(request.query.get("offset", 0)),
                    int(request.query.get("length", len(data))),
                )
                self.file_reads.append((path, offset))
                if offset == -1:
                    return web.json_response({"data": "", "offset": len(data)})
                return web.json_response(
                    {
                        "data": data[offset : offset + length].decode(errors="replace"),
                        "offset": offset,
                    }
                )
            raise web.HTTPNotFound()

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeMesos]:
        async with AsyncExitStack() as stack:
            for number in range(self.count):
                runner, port = await serve(self._master(number), "127.0.0.1")
                stack.push_async_callback(runner.cleanup)
                self.ports.append(port)
            hosts = [a.info["hostname"] for a in self.agents.values()]
            runner, self.agent_port = await serve(self._agents(), hosts[0])
            stack.push_async_callback(runner.cleanup)
            for host in hosts[1:]:
                site = web.TCPSite(runner, host, self.agent_port, reuse_address=True)
                await site.start()
            for agent in self.agents.values():
                agent.info["port"] = self.agent_port
            yield self

    def place(
        self,
        agent_id: str,
        executor_id: str,
        *,
        cpus: float = 0.1,
        mem: float = 32,
        output: str = "",
    ) -> None:
        """A task's executor now runs on the agent: in /containers, /state and its sandbox."""
        agent = self.agents[agent_id]
        directory = (
            f"/tmp/mesos/slaves/{agent_id}/frameworks/marathon/executors/{executor_id}/runs/latest"
        )
        agent.containers.append(
            {
                "executor_id": executor_id,
                "container_id": str(uuid.uuid4()),
                "statistics": {
                    "cpus_limit": cpus,
                    "mem_limit_bytes": int(mem * 2**20),
                    "mem_rss_bytes": int(mem * 2**20 / 4),
                    "cpus_system_time_secs": 0.0,
                    "cpus_user_time_secs": 0.0,
                    "cpus_nr_periods": 100,
                    "cpus_nr_throttled": 10,
                },
            }
        )
        agent.directories[executor_id] = directory
        agent.files[f"{directory}/stdout"] = output
        agent.files[f"{directory}/stderr"] = ""

    def unplace(self, executor_id: str) -> None:
        for agent in self.agents.values():
            agent.containers = [c for c in agent.containers if c.get("executor_id") != executor_id]
            agent.directories.pop(executor_id, None)


# Marathon


class FakeMarathon:
    """Marathon instances sharing their apps; each says who leads in X-Marathon-Leader."""

    def __init__(self, mesos: FakeMesos, instances: int = 2) -> None:
        self.mesos = mesos
        self.count = instances
        self.leader = 0
        self.misbehaviour = [Misbehaviour() for _ in range(instances)]
        self.ports: list[int] = []
        self.apps: dict[str, Obj] = {}
        self.deployments: list[Obj] = []
        self.hold_deployments = False
        self.versions: dict[str, list[Obj]] = {}
        """Every version of each app, oldest first, as ``/v2/apps/{id}/versions`` serves them."""
        self._last_version: datetime.datetime | None = None
        self.received: list[tuple[int, str, str, Any]] = []
        self.user: str | None = None
        self.events_enabled = True
        """False: /v2/events answers 404, as a Marathon started without the HTTP event bus."""
        self.listeners: list[asyncio.Queue[tuple[str, Obj] | None]] = []
        self.streamed_by: dict[asyncio.Queue[tuple[str, Obj] | None], int] = {}
        """Which instance serves each /v2/events listener."""

    def emit(self, event_type: str, data: Obj) -> None:
        """What Marathon's event bus sends every /v2/events listener."""
        event = {"eventType": event_type, "timestamp": "2026-11-24T12:00:00.000Z", **data}
        for queue in self.listeners:
            queue.put_nowait((event_type, event))

    def cut_event_streams(self, instance: int | None = None) -> None:
        """End the /v2/events streams of one instance, or of all."""
        for queue in self.listeners:
            if instance is None or self.streamed_by.get(queue) == instance:
                queue.put_nowait(None)

    def move_leader(self, to: int, *, old_goes_down: bool = False) -> None:
        """Another instance leads. The old leader closes the event streams it served, as
        Marathon does when it loses leadership; with ``old_goes_down`` it also stops
        answering (it died, which is why another leads)."""
        old, self.leader = self.leader, to
        if old_goes_down:
            self.misbehaviour[old].down = True
        self.cut_event_streams(old)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def _first_agent(self) -> str:
        return sorted(self.mesos.agents)[0]

    def _start_tasks(self, app: Obj, count: int) -> None:
        executor_base = app["id"].strip("/").replace("/", "_")
        for _ in range(count):
            task_id = f"{executor_base}.{uuid.uuid4()}"
            agent_id = self._first_agent()
            self.mesos.place(
                agent_id,
                task_id,
                cpus=app.get("cpus", 0.1),
                mem=app.get("mem", 32),
                output=f"started {task_id}\n",
            )
            app["tasks"].append(
                {
                    "id": task_id,
                    "appId": app["id"],
                    "slaveId": agent_id,
                    "host": self.mesos.agents[agent_id].info["hostname"],
                    "state": "TASK_RUNNING",
                    "startedAt": "2026-11-24T12:00:00.000Z",
                    "stagedAt": "2026-11-24T12:00:00.000Z",
                    "ports": [31000 + len(app["tasks"])],
                    "version": app["version"],
                }
            )
            self.emit(
                "status_update_event",
                {"appId": app["id"], "taskId": task_id, "taskStatus": "TASK_RUNNING"},
            )

    def _stop_tasks(self, app: Obj, keep: int) -> None:
        for task in app["tasks"][keep:]:
            self.mesos.unplace(task["id"])
            self.emit(
                "status_update_event",
                {"appId": app["id"], "taskId": task["id"], "taskStatus": "TASK_KILLED"},
            )
        app["tasks"] = app["tasks"][:keep]

    def _new_version(self) -> str:
        """Now, as Marathon writes a version: milliseconds, and never twice the same."""
        at = datetime.datetime.now(datetime.UTC)
        if self._last_version is not None and at <= self._last_version:
            at = self._last_version + datetime.timedelta(milliseconds=1)
        self._last_version = at
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"

    def _keep_version(self, app: Obj) -> None:
        """Marathon keeps the definition of every version of an app, tasks and counts aside."""
        definition = {k: v for k, v in app.items() if k not in RUNTIME_FIELDS}
        self.versions.setdefault(app["id"], []).append(json.loads(json.dumps(definition)))

    def _locked(self, app: Obj, request: web.Request) -> web.Response | None:
        """409 while a deployment of the app is in progress, unless ``force=true``."""
        if request.query.get("force") == "true":
            return None
        if any(app["id"] in d["affectedApps"] for d in self.deployments):
            return web.json_response(
                {
                    "message": "App is locked by one or more deployments. Override with the "
                    "option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
                    "deployments": [
                        {"id": d["id"]} for d in self.deployments if app["id"] in d["affectedApps"]
                    ],
                },
                status=409,
            )
        return None

    def _stamp(self, app: Obj, *, config_changed: bool = True) -> None:
        """A new version of the app, kept."""
        app["version"] = self._new_version()
        info = app.setdefault("versionInfo", {})
        info["lastScalingAt"] = app["version"]
        if config_changed or "lastConfigChangeAt" not in info:
            info["lastConfigChangeAt"] = app["version"]
        self._keep_version(app)

    def _deploy(self, app: Obj, *, config_changed: bool = True, stamp: bool = True) -> None:
        if stamp:
            self._stamp(app, config_changed=config_changed)
        if self.hold_deployments:
            deployment = {
                "id": str(uuid.uuid4()),
                "affectedApps": [app["id"]],
                "version": app["version"],
            }
            self.deployments.append(deployment)
        self._counts(app)
        self.emit("deployment_info", {"plan": {"target": {"apps": [{"id": app["id"]}]}}})

    def _counts(self, app: Obj) -> None:
        app["tasksRunning"] = len([t for t in app["tasks"] if t["state"] == "TASK_RUNNING"])
        app["tasksStaged"] = app["tasksHealthy"] = app["tasksUnhealthy"] = 0
        app["deployments"] = [
            {"id": d["id"]} for d in self.deployments if app["id"] in d["affectedApps"]
        ]

    def finish_deployments(self) -> None:
        for deployment in self.deployments:
            self.emit("deployment_success", {"id": deployment["id"]})
        self.deployments.clear()

    def add(self, definition: Obj) -> Obj:
        app = {
            "instances": 1,
            "cpus": 1.0,
            "mem": 128.0,
            "env": {},
            "labels": {},
            "constraints": [],
            "tasks": [],
            **definition,
        }
        app.pop("versionInfo", None)
        self.versions.pop(app["id"], None)
        self._stamp(app)
        self.apps[app["id"]] = app
        self._start_tasks(app, int(app["instances"]))
        self._deploy(app, stamp=False)
        return app

    def _app(self, request: web.Request) -> Obj:
        app_id = "/" + request.match_info["id"].strip("/")
        if app_id not in self.apps:
            raise web.HTTPNotFound(
                text=json.dumps({"message": f"App '{app_id}' does not exist"}),
                content_type="application/json",
            )
        return self.apps[app_id]

    def _server(self, number: int) -> web.Application:
        routes = web.RouteTableDef()

        @web.middleware
        async def leader_header(request: web.Request, handler: Any) -> web.StreamResponse:
            await self.misbehaviour[number].apply(request)
            body = await request.json() if request.can_read_body else None
            self.received.append((number, request.method, request.path, body))
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as exc:
                exc.headers["X-Marathon-Leader"] = f"http://127.0.0.1:{self.ports[self.leader]}"
                raise
            response.headers["X-Marathon-Leader"] = f"http://127.0.0.1:{self.ports[self.leader]}"
            return response

        @routes.get("/v2/info")
        async def info(_: web.Request) -> web.Response:
            return web.json_response(
                {"version": "1.4.12", "leader": f"127.0.0.1:{self.ports[self.leader]}"}
            )

        @routes.get("/v2/apps")
        async def list_apps(request: web.Request) -> web.Response:
            wanted = request.query.get("id", "")
            for app in self.apps.values():
                self._counts(app)
            return web.json_response({"apps": [a for a in self.apps.values() if wanted in a["id"]]})

        @routes.post("/v2/apps")
        async def create(request: web.Request) -> web.Response:
            body = await request.json()
            if body["id"] in self.apps:
                return web.json_response(
                    {"message": "An app with the path already exists."}, status=409
                )
            app = self.add(body)
            return web.json_response(app, status=201)

        @routes.post(r"/v2/apps/{id:.+}/restart")
        async def restart(request: web.Request) -> web.Response:
            app = self._app(request)
            count = len(app["tasks"])
            self._stop_tasks(app, 0)
            self._start_tasks(app, count)
            self._deploy(app, config_changed=False)
            return web.json_response({"deploymentId": str(uuid.uuid4()), "version": app["version"]})

        @routes.get(r"/v2/apps/{id:.+}/versions")
        async def versions(request: web.Request) -> web.Response:
            app = self._app(request)
            kept = self.versions.get(app["id"]) or [app]
            return web.json_response({"versions": [v["version"] for v in reversed(kept)]})

        @routes.get(r"/v2/apps/{id:.+}/versions/{version}")
        async def version(request: web.Request) -> web.Response:
            app = self._app(request)
            wanted = request.match_info["version"]
            for kept in self.versions.get(app["id"]) or [app]:
                if kept["version"] == wanted:
                    return web.json_response({k: v for k, v in kept.items() if k != "tasks"})
            return web.json_response(
                {"message": f"App '{app['id']}' does not exist in version {wanted}"}, status=404
            )

        @routes.get(r"/v2/apps/{id:.+}")
        async def get(request: web.Request) -> web.Response:
            app = self._app(request)
            self._counts(app)
            return web.json_response({"app": app})

        @routes.put(r"/v2/apps/{id:.+}")
        async def update(request: web.Request) -> web.Response:
            app = self._app(request)
            locked = self._locked(app, request)
            if locked is not None:
                return locked
            changes = await request.json()
            if "version" in changes:  # a rollback: that version's definition, whole
                kept = {v["version"]: v for v in self.versions.get(app["id"]) or []}
                if changes["version"] not in kept:
                    return web.json_response(
                        {"message": f"Version {changes['version']} does not exist"}, status=404
                    )
                changes = {k: v for k, v in kept[changes["version"]].items() if k != "version"}
                changes.pop("versionInfo", None)
            redeploy = any(k != "instances" and k != "constraints" for k in changes)
            app.update(changes)
            if redeploy:
                self._stop_tasks(app, 0)
                self._start_tasks(app, int(app["instances"]))
            elif len(app["tasks"]) > app["instances"]:
                self._stop_tasks(app, int(app["instances"]))
            else:
                self._start_tasks(app, int(app["instances"]) - len(app["tasks"]))
            self._deploy(app, config_changed=redeploy)
            return web.json_response({"deploymentId": str(uuid.uuid4()), "version": app["version"]})

        @routes.delete(r"/v2/apps/{id:.+}")
        async def delete(request: web.Request) -> web.Response:
            app = self._app(request)
            self._stop_tasks(app, 0)
            del self.apps[app["id"]]
            self.versions.pop(app["id"], None)
            self.emit("app_terminated_event", {"appId": app["id"]})
            return web.json_response({"deploymentId": str(uuid.uuid4()), "version": app["version"]})

        @routes.get("/v2/deployments")
        async def deployments(_: web.Request) -> web.Response:
            return web.json_response(self.deployments)

        @routes.get("/v2/events")
        async def events(request: web.Request) -> web.StreamResponse:
            if not self.events_enabled:
                raise web.HTTPNotFound()
            wanted = set(request.query.getall("event_type", []))
            queue: asyncio.Queue[tuple[str, Obj] | None] = asyncio.Queue()
            self.listeners.append(queue)
            self.streamed_by[queue] = number
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            response.headers["X-Marathon-Leader"] = f"http://127.0.0.1:{self.ports[self.leader]}"
            await response.prepare(request)
            try:
                await response.write(b"event: event_stream_attached\ndata: {}\n\n")
                while (item := await queue.get()) is not None:
                    event_type, event = item
                    if not wanted or event_type in wanted:
                        await response.write(
                            f"event: {event_type}\ndata: {json.dumps(event)}\n\n".encode()
                        )
            finally:
                self.listeners.remove(queue)
                self.streamed_by.pop(queue, None)
            return response

        app = web.Application(middlewares=[leader_header])
        app.add_routes(routes)
        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeMarathon]:
        async with AsyncExitStack() as stack:
            for number in range(self.count):
                runner, port = await serve(self._server(number), "127.0.0.1")
                stack.push_async_callback(runner.cleanup)
                self.ports.append(port)
            stack.callback(self.cut_event_streams)  # or cleanup waits for them to end
            yield self


# Chronos


class FakeChronos:
    def __init__(
        self, user: str | None = None, password: str | None = None, *, old_names: bool = False
    ) -> None:
        """The recorded jobs (``dev-another-job``: named before Asgard ended a namespace
        with ``_``) renamed as Asgard names them now (``dev_another-job``), unless
        ``old_names`` keeps them as recorded, for ``asgard migrate-names`` to rename."""
        self.jobs: dict[str, Obj] = {}
        for path in sorted((FIXTURES / "scheduled-jobs" / "chronos").glob("*.json")):
            job = json.loads(path.read_text())
            if not old_names:
                job["name"] = str(job["name"]).replace("-", "_", 1)
            self.jobs[job["name"]] = job
        self.state: dict[str, str] = defaultdict(lambda: "idle")
        self.credentials = (user, password) if user else None
        self.misbehaviour = Misbehaviour()
        self.port = 0
        self.received: list[tuple[str, str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def finish(self, name: str, *, success: bool) -> None:
        """A run of the job ended (played by the test: nothing runs here)."""
        job = self.jobs[name]
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        if success:
            job["successCount"] = int(job.get("successCount", 0)) + 1
            job["lastSuccess"] = now
            job["errorsSinceLastSuccess"] = 0
        else:
            job["errorCount"] = int(job.get("errorCount", 0)) + 1
            job["errorsSinceLastSuccess"] = int(job.get("errorsSinceLastSuccess", 0)) + 1
            job["lastError"] = now
        self.state[name] = "idle"

    def _server(self) -> web.Application:
        routes = web.RouteTableDef()

        @web.middleware
        async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
            await self.misbehaviour.apply(request)
            body = await request.json() if request.can_read_body else None
            self.received.append((request.method, request.path_qs, body))
            if self.credentials is not None:
                import base64

                expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()  # type: ignore[arg-type]
                if request.headers.get("Authorization") != expected:
                    raise web.HTTPUnauthorized()
            response: web.StreamResponse = await handler(request)
            return response

        def missing(name: str) -> web.Response:
            return web.Response(status=400, text=f"Job '{name}' not found")

        @routes.get("/v1/scheduler/jobs/search")
        async def search(request: web.Request) -> web.Response:
            name = request.query.get("name", "")
            return web.json_response([j for n, j in sorted(self.jobs.items()) if name in n])

        @routes.get("/v1/scheduler/jobs/summary")
        async def summary(_: web.Request) -> web.Response:
            return web.json_response(
                {
                    "jobs": [
                        {
                            "name": n,
                            "state": self.state[n],
                            "status": "success"
                            if j.get("successCount")
                            else ("failure" if j.get("errorCount") else "fresh"),
                            "schedule": j.get("schedule"),
                            "disabled": j.get("disabled", False),
                        }
                        for n, j in self.jobs.items()
                    ]
                }
            )

        @routes.get("/v1/scheduler/job/{name}")
        async def get(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            return web.json_response(self.jobs[name]) if name in self.jobs else missing(name)

        @routes.post("/v1/scheduler/iso8601")
        async def save(request: web.Request) -> web.Response:
            job = await request.json()
            if not str(job.get("schedule", "")).startswith("R"):
                return web.Response(status=400, text="invalid schedule")
            kept = self.jobs.get(job["name"], {})
            self.jobs[job["name"]] = {
                "successCount": 0,
                "errorCount": 0,
                "errorsSinceLastSuccess": 0,
                "lastSuccess": "",
                "lastError": "",
                **{
                    k: kept[k]
                    for k in ("successCount", "errorCount", "lastSuccess", "lastError")
                    if k in kept
                },
                **job,
            }
            if job["schedule"].startswith("R1/"):
                self.state[job["name"]] = "queued"
            return web.Response(status=204)

        @routes.delete("/v1/scheduler/job/{name}")
        async def delete(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name not in self.jobs:
                return missing(name)
            del self.jobs[name]
            return web.Response(status=204)

        @routes.delete("/v1/scheduler/task/kill/{name}")
        async def kill(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name not in self.jobs:
                return missing(name)
            self.state[name] = "idle"
            return web.Response(status=204)

        app = web.Application(middlewares=[guard])
        app.add_routes(routes)
        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeChronos]:
        runner, self.port = await serve(self._server(), "127.0.0.1")
        try:
            yield self
        finally:
            await runner.cleanup()
