"""The conformance kit (``asgard.testing``) against the local kind."""

from asgard.testing.kit import *  # noqa: F403
