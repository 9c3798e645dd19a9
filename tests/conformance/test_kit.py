"""The conformance kit (``asgard.testing``) against Docker, Kubernetes and Mesos."""

from asgard.testing.kit import *  # noqa: F403
