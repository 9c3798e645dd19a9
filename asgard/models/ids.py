"""The ids a URL can carry, each a typed name with the pattern its cluster kinds accept.

An id from a URL is checked here, once, before anything reads it: a route's pattern
is made from its id's kind (so what does not match is no route, a 404), and the
handler's wrapper checks the decoded value again (a 422 naming the parameter). An id
holding ``/`` (except an app id's DNS labels), ``%``, a control character, a ``.`` or
``..`` segment, or anything no object of the kinds can be named with, never reaches a
cluster.

The patterns are as wide as the real names of each kind and no wider:

- job, scheduled job, workflow, stage: Asgard makes these (DNS labels); Kubernetes
  names of objects made outside Asgard are DNS-1123 subdomains, Chronos names may hold
  ``_``;
- agent: Docker node ids (base32), Docker Engine ids (``ABCD:EFGH:...`` or a UUID),
  Kubernetes node names (subdomains), Mesos agent ids (``<uuid>-S0``), host names;
- task: Docker task and container ids (hex), pod names, Mesos task ids
  (``group_app.<uuid>``), the local kind's ``web.1.<n>``;
- version: Marathon's RFC 3339 times (``2017-10-04T18:41:52.123Z``), revision numbers;
- image: a Docker reference (``busybox:latest``, ``reg:5000/a/b@sha256:<hex>``),
  which a client path carries as segments split at ``/``, never as one;
- account, user, token: database integers (``asgard.http.routing.int_param``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Final

from pydantic import StringConstraints

from asgard.models.app import APP_ID_ROUTE

__all__ = [
    "AGENT_ID",
    "APP_ID",
    "CLUSTER_NAME",
    "ID_KINDS",
    "IMAGE_REF",
    "INTEGER_ID",
    "JOB_ID",
    "SCHEDULED_JOB_ID",
    "STAGE_NAME",
    "TASK_ID",
    "VERSION_ID",
    "WORKFLOW_ID",
    "AgentId",
    "IdKind",
    "ImageRef",
    "JobId",
    "ScheduledJobId",
    "TaskId",
    "VersionId",
    "WorkflowId",
    "id_kind",
]

_NO_DOTS = r"(?!.*\.\.)"
"""No ``..`` anywhere: no kind's names hold two dots in a row, and a climbing segment is one."""


def _name(extra: str, longest: int) -> str:
    """Letters and digits, with ``extra`` inside (never first or last), at most ``longest``."""
    return rf"{_NO_DOTS}[A-Za-z0-9](?:[A-Za-z0-9{extra}]{{0,{longest - 2}}}[A-Za-z0-9])?"


@dataclass(frozen=True)
class IdKind:
    """One kind of id: its pattern (unanchored, as a route's ``{name:pattern}`` wants it)
    and what it names, for messages and the OpenAPI document."""

    what: str
    pattern: str
    integer: bool = False

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


CLUSTER_NAME: Final = IdKind("a cluster's name", _NO_DOTS + r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
"""As ``[[clusters]]`` entries may be named (``asgard.backends.registry``); never sent."""
JOB_ID: Final = IdKind("a job's id", _name("_.-", 253))
SCHEDULED_JOB_ID: Final = IdKind("a scheduled job's id", _name("_.-", 253))
WORKFLOW_ID: Final = IdKind("a workflow's id", _name("_.-", 253))
STAGE_NAME: Final = IdKind("a workflow stage's name", _name("_.-", 253))
AGENT_ID: Final = IdKind("an agent's id", _name("_.:-", 253))
TASK_ID: Final = IdKind("a task's id", _name("_.:-", 253))
VERSION_ID: Final = IdKind("a version", _name("_.:+-", 64))
APP_ID: Final = IdKind("an app's id: DNS labels joined by '/'", APP_ID_ROUTE)
INTEGER_ID: Final = IdKind("a database id", r"-?[0-9]{1,10}", integer=True)
IMAGE_REF: Final = IdKind(
    "a Docker image reference",
    rf"{_NO_DOTS}[A-Za-z0-9][A-Za-z0-9._:/@+-]{{0,510}}",
)

ID_KINDS: Final[dict[str, IdKind]] = {
    "cluster": CLUSTER_NAME,
    "app_id": APP_ID,
    "job_id": JOB_ID,
    "scheduled_job_id": SCHEDULED_JOB_ID,
    "workflow_id": WORKFLOW_ID,
    "stage": STAGE_NAME,
    "agent_id": AGENT_ID,
    "task_id": TASK_ID,
    "version": VERSION_ID,
    "account_id": INTEGER_ID,
    "user_id": INTEGER_ID,
    "token_id": INTEGER_ID,
}
"""Every path parameter of the HTTP API and the dashboard, by name: a route naming a
parameter not here is refused when it is declared."""


def id_kind(parameter: str) -> IdKind:
    """The kind of id a path parameter is; a ``KeyError`` for one nobody declared."""
    try:
        return ID_KINDS[parameter]
    except KeyError:
        raise KeyError(
            f"path parameter {{{parameter}}} has no id kind in asgard.models.ids"
        ) from None


def _typed(kind: IdKind) -> object:
    return StringConstraints(pattern=rf"^{kind.pattern}$")


JobId = Annotated[str, _typed(JOB_ID)]
ScheduledJobId = Annotated[str, _typed(SCHEDULED_JOB_ID)]
WorkflowId = Annotated[str, _typed(WORKFLOW_ID)]
AgentId = Annotated[str, _typed(AGENT_ID)]
TaskId = Annotated[str, _typed(TASK_ID)]
VersionId = Annotated[str, _typed(VERSION_ID)]
ImageRef = Annotated[str, _typed(IMAGE_REF)]
