"""The pure mappings of the Docker backend: engine states to job states, stats arithmetic,
zips to tars and back, names. Real engines cannot be made to die or run out of memory on
demand, so these cases are checked on the engine's documented shapes."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from asgard.archives import folder_zip, job_files_tar
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import has_labels
from asgard.backends.docker.job_status import Outcome, container_status, service_status
from asgard.backends.docker.specs import object_name, placement
from asgard.backends.docker.stats import (
    MemoryStats,
    StatsSample,
    memory_used,
    read_sample,
    usage_between,
)
from asgard.errors import UnusableAnswer
from asgard.models import Account


def inspected(
    status: str, code: int = 0, restarts: int = 0, retries: int = 0, oom: bool = False
) -> dict[str, object]:
    return {
        "State": {
            "Status": status,
            "ExitCode": code,
            "OOMKilled": oom,
            "StartedAt": "2026-11-24T10:00:00.123456789Z",
            "FinishedAt": "2026-11-24T10:01:00Z"
            if status in ("exited", "dead")
            else "0001-01-01T00:00:00Z",
        },
        "RestartCount": restarts,
        "Config": {"Labels": {L.JOB_RETRIES: str(retries)}},
    }


@pytest.mark.parametrize(
    ("state", "expected", "message"),
    [
        (inspected("created"), "pending", "created, not started yet"),
        (inspected("running"), "running", "running"),
        (inspected("running", restarts=1, retries=2), "running", "running (retry 1 of 2)"),
        (inspected("exited", 0), "succeeded", "exited with code 0"),
        (inspected("exited", 2), "failed", "exited with code 2"),
        (inspected("exited", 137, oom=True), "failed", "killed: out of memory"),
        (inspected("dead", 0), "failed", "the container is dead"),
        (
            inspected("exited", 1, restarts=2, retries=2),
            "failed",
            "exited with code 1 after 2 retries",
        ),
        (
            inspected("exited", 1, restarts=1, retries=2),
            "running",
            "exited with code 1; the engine will retry",
        ),
    ],
)
def test_container_states_map_to_job_states(
    state: dict[str, object], expected: str, message: str
) -> None:
    status = container_status(state, None)
    assert status.state == expected
    assert status.message == message


def test_an_outcome_asgard_recorded_wins() -> None:
    outcome = Outcome(state="failed", message="killed after its timeout of 2 s", finished_at=None)
    status = container_status(inspected("exited", 137), outcome)
    assert (status.state, status.message, status.exit_code) == (
        "failed",
        "killed after its timeout of 2 s",
        137,
    )
    assert status.started_at is not None
    assert status.started_at.microsecond == 123456


def task(state: str, second: str, code: int | None = None, err: str = "") -> dict[str, object]:
    created = f"2026-11-24T10:00:0{second}Z"
    return {
        "CreatedAt": created,
        "Status": {
            "State": state,
            "Err": err,
            "Timestamp": created,
            "ContainerStatus": {"ExitCode": code},
        },
    }


def test_swarm_job_attempts_map_to_job_states() -> None:
    assert service_status([], 0, None).state == "pending"
    assert service_status([task("running", "1")], 0, None).state == "running"
    assert (
        service_status([task("failed", "1", 1), task("complete", "2", 0)], 1, None).state
        == "succeeded"
    )
    retried = service_status([task("failed", "1", 1), task("starting", "2")], 1, None)
    assert (retried.state, retried.failed) == ("running", 1)
    failed = service_status([task("failed", "1", 4), task("failed", "2", 4)], 1, None)
    assert (failed.state, failed.exit_code, failed.message) == (
        "failed",
        4,
        "exited with code 4 after 1 retry",
    )


def test_cpu_and_memory_follow_the_engine_api_formulas() -> None:
    before = StatsSample.model_validate(
        {
            "cpu_stats": {
                "cpu_usage": {"total_usage": 1_000},
                "system_cpu_usage": 10_000,
                "online_cpus": 4,
            }
        }
    )
    after = StatsSample.model_validate(
        {
            "cpu_stats": {
                "cpu_usage": {"total_usage": 3_000},
                "system_cpu_usage": 20_000,
                "online_cpus": 4,
                "throttling_data": {"periods": 10, "throttled_periods": 5},
            },
            "memory_stats": {"usage": 300, "limit": 1000, "stats": {"cache": 100}},
        }
    )
    usage = usage_between(before, after)
    assert usage.cpu_pct == pytest.approx(2_000 / 10_000 * 4 * 100)
    assert usage.mem_used == 200
    assert usage.mem_limit == 1000
    assert (usage.throttled_periods, usage.periods) == (5, 10)
    memory = MemoryStats(usage=500, stats={"inactive_file": 50, "cache": 400})
    assert memory_used(memory) == 450


def test_podman_cpu_is_measured_against_the_time_between_samples() -> None:
    """Podman's system CPU time is every cgroup's busy time: a container alone on an idle
    host would be at 100 % of it. Its share of one CPU is its time over the time elapsed."""
    before = StatsSample.model_validate(
        {
            "read": "2026-12-07T02:28:35.000000000Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 1_000},
        }
    )
    after = StatsSample.model_validate(
        {
            "read": "2026-12-07T02:28:35.500000000Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 250_000_000}, "system_cpu_usage": 251_000},
            "memory_stats": {"usage": 4096, "limit": 8192},
        }
    )
    usage = usage_between(before, after, busy_clock=True)
    assert usage.cpu_pct == pytest.approx(50.0)
    assert (usage.mem_used, usage.mem_limit) == (4096, 8192)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("the container is not running", "a stats document of str"),
        ([{"cpu_stats": {}}], "a stats document of list"),
        ({"cpu_stats": "busy"}, "a stats document with a wrong cpu_stats"),
        ({"memory_stats": {"usage": "lots"}}, "a stats document with a wrong memory_stats.usage"),
    ],
)
def test_a_stats_answer_of_another_shape_is_the_clusters_error(
    answer: object, problem: str
) -> None:
    with pytest.raises(UnusableAnswer) as raised:
        read_sample(answer, cluster="pod", container_id="c1")
    assert raised.value.cluster == "pod"
    assert problem in raised.value.msg


def test_no_stats_answer_is_no_sample() -> None:
    """Podman answers a stopped container's stats with an empty body: nothing to count."""
    assert read_sample(None, cluster="pod", container_id="c1") is None


def test_input_zips_become_a_tar_for_the_container_and_output_tars_a_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data/a.txt", b"A")
        archive.writestr("../escape.txt", b"no")
    with job_files_tar(buffer.getvalue()) as spooled, tarfile.open(fileobj=spooled) as tar:
        names = {m.name: m for m in tar.getmembers()}
    assert set(names) == {"input", "output", "input/data/a.txt"}
    assert names["output"].mode == 0o777

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as made:
        for name, data in (("output/r.txt", b"R"), ("output/sub/s.txt", b"S")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            made.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(io.BytesIO(folder_zip(out.getvalue(), "output"))) as result:
        assert {n: result.read(n) for n in result.namelist()} == {"r.txt": b"R", "sub/s.txt": b"S"}


def test_names_and_placement() -> None:
    assert object_name("dev", "team/api") == "dev_team_api"
    assert object_name("dev", "team/api", "3fa2c1") == "dev_team_api__3fa2c1"
    long = object_name("dev", "/".join(["segment"] * 12))
    assert len(long) == 63
    assert long != object_name("dev", "/".join(["segment"] * 11) + "/other")
    account = Account(id=1, name="a", namespace="a", owner="team-a")
    assert placement(account, ["zone==eu", "node.role!=manager"]) == [
        "node.labels.zone==eu",
        "node.role!=manager",
        "node.labels.owner==team-a",
    ]


def test_every_label_test_must_hold() -> None:
    """Podman 4.3 lists the volumes matching any label filter; Asgard keeps those matching
    every one, as a Docker Engine answers."""
    labels = {"asgard.namespace": "dev", "asgard.job": "j1"}
    assert has_labels(labels, ["asgard.namespace=dev", "asgard.job=j1"])
    assert has_labels(labels, ["asgard.job"])
    assert not has_labels(labels, ["asgard.namespace=dev", "asgard.job=j2"])
    assert not has_labels(None, ["asgard.job"])
    assert has_labels(None, [])
