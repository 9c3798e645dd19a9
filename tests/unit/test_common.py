"""What every kind's client shares."""

from __future__ import annotations

import pytest

from asgard.backends.common import status_error
from asgard.errors import ClusterFailure, ClusterUnauthorized, Conflict, InvalidValue, NotFound


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, NotFound),
        (409, Conflict),
        (400, InvalidValue),
        (422, InvalidValue),
        (401, ClusterUnauthorized),
        (403, ClusterUnauthorized),
        (500, ClusterFailure),
        (503, ClusterFailure),
    ],
)
def test_a_status_becomes_one_error_type(status: int, kind: type[Exception]) -> None:
    error = status_error(status, "list nodes", "nope", cluster="k8s", server="the API server")
    assert isinstance(error, kind)
    assert "list nodes" in str(error)
