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


def attributed(version: AppVersion, deploys: Sequence[AppVersion]) -> AppVersion:
    """``version`` with who deployed it, when Asgard did. Among the recorded deploys of the
    same spec (one may have been deployed again since), the one nearest the cluster's time
    for the version made it; with no time to go by, the latest."""
    same = [d for d in deploys if d.id == spec_hash(version.spec)]  # newest first
    if not same:
        return version
    chosen = same[0]
    at = version.created_at
    if at is not None:
        chosen = min(same, key=lambda d: abs((d.created_at or at) - at))
    return version.model_copy(update={"by": chosen.by, "created_at": at or chosen.created_at})


def history(kept: Sequence[AppVersion], deploys: Sequence[AppVersion]) -> list[AppVersion]:
    """Newest first: the versions the cluster keeps (the first is what runs), each with who
    deployed it, then the older specs only Asgard remembers, once each at its latest
    deploy (a Swarm service keeps one spec before its current one; a single engine none)."""
    found = [attributed(v, deploys) for v in kept]
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
