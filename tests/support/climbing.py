"""Climbing ids, and each kind's objects read straight from the cluster (not through
Asgard), for the test that drives every operation taking an id with them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp

from tests.support.dockerd import DockerDaemon
from tests.support.mesos_fakes import FakeChronos, FakeMarathon

CLIMBING_IDS = [
    "..%2F..%2F..%2F..%2F..%2F..%2Fapis%2Fapps%2Fv1%2Fnamespaces%2Fkube-system%2Fdeployments%2Fcoredns",
    "..%2F..%2Ftb%2Fjobs%2Fpayroll",
    "..%2F..%2Ftb%2Fcronjobs%2Fnightly",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fx",
    "..%252F..%252Fx",
    "a%00b",
    "a%0Ab",
    ".%2Fx",
    "x%2F..",
    "..",
    "%252e%252e",
    "x" * 300,
]
"""As they go on the wire (already percent-encoded): climbing, encoded and double-encoded,
a control character, and one longer than any kind's names."""

WRITE_BODY: dict[str, Any] = {}


def id_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(method, path template, its id parameters) of every operation of the document whose
    path takes an id other than the cluster's name."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            ids = [n for n in names if n != "cluster"]
            if ids:
                yield method.upper(), path, ids


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _keep(items: list[dict[str, Any]], *fields: str) -> list[str]:
    return sorted(json.dumps([item.get(f) for f in fields], sort_keys=True) for item in items)


async def kube_objects(session: aiohttp.ClientSession, url: str) -> dict[str, list[str]]:
    """Every namespace's workloads, Jobs, CronJobs, Secrets, claims and pods, by name and
    resourceVersion: a write of any of them changes its version."""
    found: dict[str, list[str]] = {}
    for path in (
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/statefulsets",
        "/apis/apps/v1/daemonsets",
        "/apis/batch/v1/jobs",
        "/apis/batch/v1/cronjobs",
        "/api/v1/secrets",
        "/api/v1/persistentvolumeclaims",
        "/api/v1/pods",
    ):
        async with session.get(url + path) as response:
            body = await response.json(content_type=None)
        items = [
            {
                "ns": (i.get("metadata") or {}).get("namespace"),
                "name": (i.get("metadata") or {}).get("name"),
                "rv": (i.get("metadata") or {}).get("resourceVersion"),
            }
            for i in (body or {}).get("items") or []
        ]
        found[path] = _keep(items, "ns", "name", "rv")
    return found


async def docker_objects(daemon: DockerDaemon) -> dict[str, list[str]]:
    """The engine's containers, services, volumes, images and nodes, with their versions."""
    async with aiodocker.Docker(url=daemon.url) as docker:
        containers = await docker._query_json("containers/json", params={"all": "1"})
        volumes = (await docker._query_json("volumes")).get("Volumes") or []
        images = await docker._query_json("images/json")
        info = await docker._query_json("info")
        swarm = (info.get("Swarm") or {}).get("ControlAvailable")
        services = await docker._query_json("services") if swarm else []
        nodes = await docker._query_json("nodes") if swarm else []
    return {
        "containers": _keep(containers, "Id", "Names", "Image", "Created"),
        "volumes": _keep(volumes, "Name", "CreatedAt"),
        "images": _keep(images, "Id", "RepoTags"),
        "services": sorted(json.dumps([s["ID"], s["Version"]]) for s in services),
        "nodes": sorted(json.dumps([n["ID"], n["Version"]]) for n in nodes),
    }


def mesos_objects(marathon: FakeMarathon, chronos: FakeChronos) -> dict[str, Any]:
    """Marathon's apps and their versions, Chronos' jobs, as the fakes hold them, and the
    writes each was sent."""
    marathon_writes = [r for r in marathon.received if r[1] not in ("GET", "HEAD")]
    chronos_writes = [r for r in chronos.received if r[0] not in ("GET", "HEAD")]
    found: dict[str, Any] = json.loads(
        json.dumps(
            {
                "apps": marathon.apps,
                "versions": marathon.versions,
                "jobs": chronos.jobs,
                "writes": [marathon_writes, chronos_writes],
            },
            sort_keys=True,
            default=str,
        )
    )
    return found


def local_objects(state_dir: Path) -> list[str]:
    """Every file of the local kind's state, with its size and time: what it made."""
    return sorted(
        f"{p.relative_to(state_dir)} {p.stat().st_size} {p.stat().st_mtime_ns}"
        for p in state_dir.rglob("*")
        if p.is_file()
    )
