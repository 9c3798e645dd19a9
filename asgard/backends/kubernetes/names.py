"""Asgard ids <-> Kubernetes names and the labels Asgard puts on what it creates.

App ids are paths (``team/api``); Kubernetes names are single DNS labels. An
app id becomes a name by joining its segments with ``--`` (``team--api``), and
the id itself is kept in the ``asgard.io/app-id`` annotation: it is read back
from there, so a name is never guessed back into an id. Workloads made
without Asgard have no annotation; their name is their id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

MANAGED_BY = "app.kubernetes.io/managed-by"
ASGARD = "asgard"
APP_LABEL = "asgard.io/app"
APP_ID_ANNOTATION = "asgard.io/app-id"
JOB_LABEL = "asgard.io/job"
JOB_NAME_LABEL = "asgard.io/job-name"
ROLE_LABEL = "asgard.io/role"
TIMEOUT_ANNOTATION = "asgard.io/timeout-s"
RETRIES_ANNOTATION = "asgard.io/retries"
WORKFLOW_LABEL = "asgard.io/workflow"
WORKSPACE_ANNOTATION = "asgard.io/workspace"
"""On a workflow stage's Job: the claim of the workflow's volume."""
OUTPUT_DIR_ANNOTATION = "asgard.io/output-dir"
"""On a workflow stage's Job: the folder of that volume that is its ``/output``."""
COLLECT_ATTEMPT_ANNOTATION = "asgard.io/collect-attempt"
OUTPUT_REFUSED_ANNOTATION = "asgard.io/output-refused"
"""On a Job whose output Asgard refused (over ``max_output_bytes``): why. The job then
shows failed, saying so, on every replica and in every cache (the watch carries it)."""
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
NAME_LIMIT = 63

OWN_PREFIXES = ("asgard.io/", "app.kubernetes.io/managed-by")


def object_name(app_id: str) -> str:
    name = app_id.replace("/", "--")
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: NAME_LIMIT - 9].rstrip('-')}-{digest}"


def workspace_claim(workflow_id: str) -> str:
    """The PersistentVolumeClaim a workflow's stages share."""
    return object_name(f"{workflow_id}-volume")


def app_id_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return str((meta.get("annotations") or {}).get(APP_ID_ANNOTATION) or meta.get("name", ""))


def user_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (labels or {}).items() if not k.startswith(OWN_PREFIXES)}
