"""The labels by which Asgard recognises what it manages on a Docker Engine.

The account namespace is a label, not a name prefix: it is what scopes every
list, so an app or job of one account is never even fetched for another.
"""

from __future__ import annotations

import json
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
ENV_NAMES = "asgard.env"
"""On a single engine's definition container and a job's container: the names of the
variables the spec set, as JSON. An engine may add variables of its own to a container's
``Env`` (Podman: ``container``, ``TERM``, ``HOME``, ``HOSTNAME``), which are not the spec's."""
PORTS = "asgard.ports"
"""On a single engine's definition container: the spec's ports, as JSON. Podman writes the
host port it picked for a port published on any port into the container's own bindings,
where a Docker Engine keeps what was asked."""
ROLE_DEFINITION = "definition"
ROLE_INSTANCE = "instance"


def user_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """The labels a user set, without Asgard's own."""
    return {k: v for k, v in (labels or {}).items() if not k.startswith(PREFIX)}


def env_names(env: Mapping[str, str]) -> str:
    """The ``ENV_NAMES`` label of a spec's variables."""
    return json.dumps(sorted(env))


def spec_env(env: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Of a container's variables, those its spec set (all of them when it was made
    before Asgard wrote down their names)."""
    if ENV_NAMES not in labels:
        return dict(env)
    names = set(json.loads(labels[ENV_NAMES]))
    return {k: v for k, v in env.items() if k in names}


def namespace_filter(namespace: str, *extra: str) -> dict[str, list[str]]:
    """An engine-side filter: only objects of this namespace (and the extra label tests)."""
    return {"label": [f"{NAMESPACE}={namespace}", *extra]}
