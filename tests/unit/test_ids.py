"""Every id a URL carries is a typed name: real objects' ids pass, climbing ones do not."""

from __future__ import annotations

import pytest

from asgard.http.routing import typed_path
from asgard.models.ids import (
    AGENT_ID,
    APP_ID,
    ID_KINDS,
    IMAGE_REF,
    JOB_ID,
    SCHEDULED_JOB_ID,
    TASK_ID,
    VERSION_ID,
    WORKFLOW_ID,
    IdKind,
)
from asgard.server import create_app
from asgard.settings import Settings

REAL = [
    (JOB_ID, "nightly-a1b2c3"),
    (JOB_ID, "report.v2"),  # a Kubernetes Job made outside Asgard: a DNS subdomain
    (SCHEDULED_JOB_ID, "backup"),
    (SCHEDULED_JOB_ID, "legacy_chronos_job"),
    (WORKFLOW_ID, "etl-0a1b2c3d"),
    (AGENT_ID, "n5fbmcbq2xv0r4zlq3bd1nz5q"),  # a Swarm node
    (AGENT_ID, "ZSXP:N2XT:WPE7:BSB5:PLJG:V2TZ:E5YU:L3DP:QQ2Z:SKE7:BB7T:TQXQ"),  # an engine
    (AGENT_ID, "9e1c2d4e-7b5c-4a8e-9f0d-123456789abc-S0"),  # a Mesos agent
    (AGENT_ID, "ip-10-0-0-1.ec2.internal"),  # a Kubernetes node
    (TASK_ID, "f" * 64),  # a container
    (TASK_ID, "web-7d4b9c6f5-x2x9q"),  # a pod
    (TASK_ID, "dev_web.5f6e2c1a-0b1c-11ee-8c5a-0242ac120002"),  # a Marathon task
    (TASK_ID, "web.1.3"),  # the local kind
    (VERSION_ID, "2017-10-04T18:41:52.123Z"),  # Marathon
    (VERSION_ID, "3"),  # a revision
    (APP_ID, "web"),
    (APP_ID, "team/api"),
    (IMAGE_REF, "busybox:latest"),
    (IMAGE_REF, "reg:5000/a/b@sha256:" + "0" * 64),
]

HOSTILE = [
    "..",
    ".",
    "../../x",
    "..%2F..%2Fx",
    "%2e%2e",
    "..%252F",
    "a%00b",
    "a\x00b",
    "./x",
    "x/..",
    "a..b",
    "a b",
    "a\nb",
    "",
    "x" * 300,
    "-leading",
]


@pytest.mark.parametrize(("kind", "value"), REAL, ids=[v for _, v in REAL])
def test_real_ids_of_every_kind_are_names(kind: IdKind, value: str) -> None:
    assert kind.matches(value)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", sorted(n for n, k in ID_KINDS.items() if not k.integer))
def test_climbing_encoded_and_oversized_ids_are_no_name(name: str, value: str) -> None:
    kind = ID_KINDS[name]
    if name == "app_id" and value == "x" * 300:
        return  # the app id's length is the AppId validator's (200), checked after the route
    assert not kind.matches(value)


def test_only_an_app_id_may_hold_a_slash() -> None:
    for name, kind in ID_KINDS.items():
        assert kind.matches("a/b") == (name == "app_id")


def test_a_route_gets_its_ids_patterns_and_an_unknown_parameter_is_refused() -> None:
    typed = typed_path("/clusters/{cluster}/jobs/{job_id}/logs")
    assert "{job_id:" + JOB_ID.pattern + "}" in typed
    assert typed_path("/accounts/{account_id}") == "/accounts/{account_id}"
    with pytest.raises(KeyError):
        typed_path("/things/{thing_id}")


def test_every_route_of_the_app_is_typed() -> None:
    """No route of the API or the dashboard takes a parameter with aiohttp's default
    pattern (anything but '/'), which is what let '..%2F' through."""
    app = create_app(Settings())
    for resource in app.router.resources():
        info = resource.get_info()
        pattern = info.get("pattern")
        if pattern is None:
            continue
        for name in pattern.groupindex:
            kind = ID_KINDS[name]
            if not kind.integer and name != "user_id":
                assert "[^{}/]+" not in pattern.pattern, resource
