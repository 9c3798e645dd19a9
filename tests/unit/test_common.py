"""What every kind's client shares."""

from __future__ import annotations

import pytest

from asgard.backends.common import object_path, status_error
from asgard.errors import ClusterFailure, ClusterUnauthorized, Conflict, InvalidValue, NotFound


@pytest.mark.parametrize(
    "path", ["/api/v1/nodes/node-1", "images/registry:5000/team/app:1.2@sha256:ab/json"]
)
def test_names_objects_can_have_pass(path: str) -> None:
    assert object_path(path, "c") == path


@pytest.mark.parametrize("name", ["?;", "a b", "x#y", "new\nline", "nul\x00"])
def test_a_name_no_object_can_have_is_not_found_rather_than_another_url(name: str) -> None:
    with pytest.raises(NotFound) as raised:
        object_path(f"/apis/batch/v1/namespaces/dev/jobs/{name}", "k8s")
    assert raised.value.details[0].cluster == "k8s"


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
