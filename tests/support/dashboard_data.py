"""What the dashboard's fleet holds before any test runs, made through the HTTP API as a
user would: on each of the three clusters an app, a one-time job, a workflow (not on
Mesos, which has none) and a scheduled job, named after the cluster so that a row says
where it came from. Mesos also has the agents and the Chronos jobs its recorded fixtures
hold."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE

if TYPE_CHECKING:
    from tests.support.dashboard_fleet import DashboardFleet

CLUSTERS = ("docker", "k8s", "mesos")
KINDS = {"docker": "docker", "k8s": "kubernetes", "mesos": "mesos"}
APPS = {c: f"web-{c}" for c in CLUSTERS}
JOBS = {c: f"report-{c}" for c in CLUSTERS}
WORKFLOWS = {c: f"etl-{c}" for c in ("docker", "k8s")}
"""Mesos carries no files from one stage to the next: no workflows there."""
SCHEDULED = {c: f"nightly-{c}" for c in CLUSTERS}
K8S_NODES = ("node-1", "node-2")
CHRONOS_JOBS = ("another-job", "with-infra-in-name")
"""The recorded Chronos jobs of the namespace ``dev``."""
CRON = {"docker": "0 3 * * *", "k8s": "0 3 * * *", "mesos": "R/2026-12-01T03:00:00Z/PT24H"}

__all__ = ["APPS", "CLUSTERS", "JOBS", "KINDS", "SCHEDULED", "WORKFLOWS", "fill"]


def image_of(cluster: str, command: str) -> dict[str, Any]:
    """A Docker cluster runs the busybox test image for real; the others only record it."""
    if cluster == "docker":
        return {"image": TEST_IMAGE, "command": ["sh", "-c", command]}
    return {"image": "busybox:1.36", "command": ["sh", "-c", command]}


def app_spec(cluster: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"cluster": cluster, "id": APPS[cluster], "instances": 2}
    if cluster == "docker":
        return {**spec, "image": TEST_IMAGE, "args": SERVE_FOREVER}
    return {**spec, "image": "web:1", "resources": {"cpus": 0.25, "mem": 128}}


def workflow_spec(cluster: str) -> dict[str, Any]:
    stages = [
        {"name": "extract", **image_of(cluster, "echo 21 > /output/n.txt")},
        {"name": "double", **image_of(cluster, "echo $(( $(cat /input/n.txt) * 2 ))")},
    ]
    return {"cluster": cluster, "name": WORKFLOWS[cluster], "stages": stages}


def fill(fleet: DashboardFleet) -> None:
    """Make everything, then wait until the apps run and the Docker job has finished."""
    for cluster in CLUSTERS:
        fleet.ok("POST", "/apps", 201, json=app_spec(cluster))
        job = {"cluster": cluster, "name": JOBS[cluster], **image_of(cluster, "echo done")}
        made = fleet.ok("POST", "/jobs", 201, json=job)["job"]
        if cluster == "k8s":  # the controllers start its pod: the jobs page shows it running
            fleet.loop.run(fleet.kube.controllers.run_job("dev", made["id"]))
        if cluster in WORKFLOWS:
            fleet.ok("POST", "/workflows", 201, json=workflow_spec(cluster))
        scheduled = {
            "cluster": cluster,
            "name": SCHEDULED[cluster],
            **image_of(cluster, "echo nightly"),
            "schedule": {"value": CRON[cluster]},
        }
        fleet.ok("POST", "/scheduled-jobs", 201, json=scheduled)

    def running() -> bool:
        apps = fleet.ok("GET", "/apps")["apps"]
        up = [a for a in apps if a["id"] in APPS.values() and a["instances"]["running"] >= 1]
        return len(up) == 3

    def docker_job_done() -> bool:
        jobs = fleet.ok("GET", "/jobs?cluster=docker")["jobs"]
        return any(
            j["name"] == JOBS["docker"] and j["status"]["state"] == "succeeded" for j in jobs
        )

    until(running, "an instance of each app running", 60)
    until(docker_job_done, "the Docker job finished", 60)


def until(check: Callable[[], bool], what: str, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"within {limit_s:g} s, never: {what}")
