"""What ``redact`` takes out of a message, and what it leaves for the reader."""

from __future__ import annotations

import pytest

from asgard.errors import AllClustersFailed, ClusterUnreachable, ErrorDetail, InvalidValue, NotFound
from asgard.redact import redact


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (
            "cannot reach http://user:secret@10.0.0.1:8080/v2/apps",
            "cannot reach http://10.0.0.1:8080/v2/apps",
        ),
        ("tcp://admin:pw@engine:2375 refused", "tcp://engine:2375 refused"),
        (
            "GET https://api/x?access_token=abc&limit=5&password=p%40ss#top",
            "GET https://api/x?access_token=***&limit=5&password=***#top",
        ),
        ("https://h/?token=t0k3n", "https://h/?token=***"),
        (
            "headers={'Authorization': 'Bearer abc.def.ghi'}",
            "headers={'Authorization': 'Bearer ***'}",
        ),
        ("Authorization: Basic dXNlcjpzZWNyZXQ=", "Authorization: Basic ***"),
        ("sent Bearer abcdefgh12345678 upstream", "sent Bearer *** upstream"),
        ("key asg_ab12cd34_s3cr3t-value was used", "key *** was used"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here", "jwt *** here"),
    ],
)
def test_credentials_are_taken_out(said: str, shown: str) -> None:
    assert redact(said) == shown


@pytest.mark.parametrize(
    "said",
    [
        "cluster kube is unreachable: Cannot connect to host 127.0.0.1:1 ssl:default",
        "unix:///var/run/docker.sock answered 500",
        "a job token is required: 'Authorization: Bearer <job token>'",
        "write to user@example.com about https://example.com/a@b",
        "label tier=web is reserved",
        "",
    ],
)
def test_what_is_no_credential_is_kept(said: str) -> None:
    assert redact(said) == said


def test_a_cluster_error_is_redacted_where_it_is_made() -> None:
    error = ClusterUnreachable("mesos", "http://u:secret@m:5050/?token=secret is unreachable")
    assert "secret" not in error.msg
    assert "secret" not in str(error)
    assert all("secret" not in d.msg for d in error.details)
    assert error.msg == "http://m:5050/?token=*** is unreachable"


def test_any_error_naming_a_cluster_is_redacted_and_others_are_not() -> None:
    assert "secret" not in NotFound("http://u:secret@k/api: 404", cluster="kube").msg
    fleet = AllClustersFailed([ClusterUnreachable("a", "http://u:secret@a/")])
    assert "secret" not in fleet.details[0].msg
    given = [ErrorDetail(msg="https://u:secret@x/", cluster="x")]
    assert "secret" not in InvalidValue("bad", details=given).details[0].msg
    said = "password=hunter2 is not a label"  # a tenant's own input, not a cluster's
    assert InvalidValue(said, field="labels").msg == said
