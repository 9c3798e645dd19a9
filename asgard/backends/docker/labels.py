"""The labels by which Asgard recognises what it manages on a Docker Engine.

The account namespace is a label, not a name prefix: it is what scopes every
list, so an app or job of one account is never even fetched for another.
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "asgard."
NAMESPACE = "asgard.namespace"
APP = "asgard.app"
ROLE = "asgard.role"
"""On a single engine: ``definition`` (the app's spec, never started) or ``instance``."""
INSTANCES = "asgard.instances"
"""On a single engine's definition container: how many instances are wanted."""
JOB = "asgard.job"
"""On everything made for a job: its id."""
JOB_NAME = "asgard.job.name"
JOB_TIMEOUT = "asgard.job.timeout_s"
JOB_RETRIES = "asgard.job.retries"
ROLE_HELPER = "helper"
"""A container made only to copy files in or out of a job's volumes; never started."""
WORKFLOW = "asgard.workflow"
"""On a workflow's volume and on the views of its folders that its stages mount."""
CREATED_AT = "asgard.created_at"
"""When the app (on its definition container) or the job was created."""
CONSTRAINTS = "asgard.constraints"
"""On a single engine's definition container: the app's constraints, as JSON."""
ROLE_DEFINITION = "definition"
ROLE_INSTANCE = "instance"


def user_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """The labels a user set, without Asgard's own."""
    return {k: v for k, v in (labels or {}).items() if not k.startswith(PREFIX)}


def namespace_filter(namespace: str, *extra: str) -> dict[str, list[str]]:
    """An engine-side filter: only objects of this namespace (and the extra label tests)."""
    return {"label": [f"{NAMESPACE}={namespace}", *extra]}
