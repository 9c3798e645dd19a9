"""The kit runs once per harness: every kind of this repository must behave the same way,
and one that can do little (``static``) must say so and refuse the rest."""

from __future__ import annotations

from asgard.testing import harness_fixture
from tests.conformance.docker_harness import DockerEngineHarness, DockerSwarmHarness
from tests.conformance.kubernetes_harness import KubernetesHarness
from tests.conformance.mesos_harness import MesosHarness
from tests.conformance.podman_harness import PodmanHarness
from tests.conformance.static_harness import StaticHarness

harness = harness_fixture(
    DockerEngineHarness,
    DockerSwarmHarness,
    KubernetesHarness,
    MesosHarness,
    StaticHarness,
    PodmanHarness,
)
