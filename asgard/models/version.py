"""Versions of an app: the specs it ran, as its cluster or Asgard remembers them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import Field, ValidationError

from asgard.models.app import App, AppFields, AppSpec
from asgard.models.base import AsgardModel

__all__ = ["AppVersion", "spec_hash", "spec_of", "version_of"]


class AppVersion(AsgardModel):
    """One spec an app ran. ``id`` is the cluster's own name for it where the cluster keeps
    a history (a Deployment's revision, Marathon's version), else Asgard's (a hash of the
    spec, so the same spec deployed again is the same version)."""

    id: str
    spec: AppSpec
    created_at: datetime | None = Field(
        None, description="When this spec was deployed; null where the cluster does not say"
    )
    by: str | None = Field(
        None, description="The email of the user who deployed it through Asgard; null otherwise"
    )
    unsupported: str | None = Field(
        None,
        description="Why Asgard cannot roll back to this version (its spec holds what an "
        "AppSpec cannot say, shown here as near as it can be); null when it can",
    )


def spec_of(app: App) -> AppSpec:
    """The spec an app runs now: what deploying it again would take. Its count is the
    desired one, so a suspended app's spec says 0. Built without validation: what a
    cluster runs may hold what a client could not send (an app without an image), and
    ``version_of`` says so."""
    fields = {name: getattr(app, name) for name in AppFields.model_fields}
    return AppSpec.model_construct(**fields, instances=app.instances.desired)


def spec_hash(spec: AppSpec) -> str:
    """A short name for a spec, the same for equal specs: Asgard's id of a version, and how
    a version a cluster keeps is told to be one Asgard deployed. A published port is left
    out: where the cluster chooses it, it may not be chosen yet when a write answers."""
    fields = spec.model_dump(mode="json")
    fields["ports"] = [{**p, "published_port": None} for p in fields.get("ports") or []]
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def version_of(
    app: App,
    *,
    id: str | None = None,
    created_at: datetime | None = None,
    unsupported: str | None = None,
) -> AppVersion:
    """The version an app (as a converter read it from a cluster's history) stands for.
    A spec that does not validate as an ``AppSpec`` is shown as it is, and marked so that
    a rollback to it is refused with the reason."""
    spec = spec_of(app)
    if unsupported is None:
        try:
            AppSpec.model_validate(spec.model_dump())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            unsupported = f"its {where} cannot be deployed by Asgard: {first['msg']}"
    return AppVersion(
        id=id or spec_hash(spec),
        spec=spec,
        created_at=created_at,
        unsupported=unsupported,
    )
