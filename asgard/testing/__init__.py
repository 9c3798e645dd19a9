"""The conformance kit: the checks every cluster kind must pass, for any package to run.

A backend proves itself by implementing a ``Harness`` for its kind and running the
kit's tests against it; see ``asgard.testing.harness`` and ``docs/backends.rst``.
"""

from asgard.testing.fixture import harness_fixture
from asgard.testing.harness import SERVE_FOREVER, Harness

__all__ = ["SERVE_FOREVER", "Harness", "harness_fixture"]
