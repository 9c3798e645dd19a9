"""An app's history: what its cluster keeps, joined with what Asgard recorded deploying.

Pure functions, so the rules are in one place and tested without a cluster. A version
the cluster keeps is told to be one Asgard deployed by its spec (``spec_hash``): the
cluster's ids (a revision, a timestamp) are only known once the cluster has made them,
which a Deployment's controller does after Asgard's write has returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from asgard.errors import NotFound
from asgard.models import AppVersion
from asgard.models.version import spec_hash

__all__ = ["attributed", "history", "previous"]


def attributed(
    version: AppVersion, deploys: Sequence[AppVersion], *, runs: bool = False
) -> AppVersion:
    """``version`` with who deployed it, when Asgard did, among the recorded deploys of the
    same spec (one may have been deployed again since, a rollback). The version that
    ``runs`` is the latest deploy's: whoever deployed its spec last made it run, even where
    the cluster gives it the time it first ran (a Deployment's reused ReplicaSet). An older
    one is the deploy nearest the cluster's time for it; with no time to go by, the latest."""
    same = [d for d in deploys if d.id == spec_hash(version.spec)]  # newest first
    if not same:
        return version
    at = version.created_at
    chosen = same[0]
    if at is not None and not runs:
        chosen = min(same, key=lambda d: abs((d.created_at or at) - at))
    when = at or chosen.created_at
    if runs and at is not None and chosen.created_at is not None:
        when = max(at, chosen.created_at)
    return version.model_copy(update={"by": chosen.by, "created_at": when})


def history(kept: Sequence[AppVersion], deploys: Sequence[AppVersion]) -> list[AppVersion]:
    """Newest first: the versions the cluster keeps (the first is what runs), each with who
    deployed it, then the older specs only Asgard remembers, once each at its latest
    deploy (a Swarm service keeps one spec before its current one; a single engine none)."""
    found = [attributed(v, deploys, runs=i == 0) for i, v in enumerate(kept)]
    seen = {spec_hash(v.spec) for v in kept}
    for deploy in deploys:
        if deploy.id not in seen:
            seen.add(deploy.id)
            found.append(deploy)
    return found


def previous(versions: Sequence[AppVersion], app_id: str, cluster: str) -> AppVersion:
    """What a rollback with no version named goes back to: the newest version whose spec
    differs from the one that runs (a restart or a repeated deploy is no step back)."""
    if versions:
        current = spec_hash(versions[0].spec)
        for version in versions[1:]:
            if spec_hash(version.spec) != current:
                return version
    raise NotFound(f"app '{app_id}' has no earlier version to roll back to", cluster=cluster)
