"""Short-lived tokens that let one job, and only that job, fetch its input and send its output.

A job running on a cluster (a Kubernetes pod, a Mesos task) has no user's
credentials. Its backend gives it a token scoped to (cluster, namespace, job)
and to the two job I/O routes; it is signed with Asgard's secret key and
expires on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

import jwt

from asgard.errors import Unauthenticated
from asgard.models.base import utc_now

JOB_PATH: Final = "/clusters/{cluster}/jobs/{job_id}"
"""Where a job lives in Asgard's HTTP API; its files are ``{JOB_PATH}/input`` and ``/output``.
The routes are declared from it, and backends build the URLs a job calls back with it."""

JobFile = Literal["input", "output"]


def job_file_path(cluster: str, job_id: str, what: JobFile) -> str:
    return JOB_PATH.format(cluster=cluster, job_id=job_id) + f"/{what}"


AUDIENCE = "asgard-job-io"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class JobGrant:
    cluster: str
    namespace: str
    job_id: str


class JobTokens:
    def __init__(self, signing_key: str) -> None:
        self._key = signing_key

    def issue(self, grant: JobGrant, ttl_s: int) -> str:
        now = utc_now()
        claims = {
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_s),
            "cluster": grant.cluster,
            "ns": grant.namespace,
            "job": grant.job_id,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> JobGrant:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["exp", "aud"]},
            )
            return JobGrant(cluster=claims["cluster"], namespace=claims["ns"], job_id=claims["job"])
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the job token has expired") from None
        except (jwt.InvalidTokenError, KeyError):
            raise Unauthenticated("invalid job token") from None
