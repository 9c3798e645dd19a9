"""Agents: the machines of a cluster."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, computed_field

from asgard.models.base import AsgardModel, HeldInBulk, Resources, UsageStats


class Agent(HeldInBulk):
    """A machine that runs work: a Swarm node or engine host, a Kubernetes node, a Mesos agent."""

    id: str
    cluster: str
    type: str = Field(description="DOCKER, KUBERNETES or MESOS")
    hostname: str
    active: bool
    version: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    used_resources: Resources = Field(default_factory=Resources)
    total_apps: int = 0
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="Parts of this agent that could not be read, by field name",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stats(self) -> UsageStats:
        """Derived from resources, never stored, so it cannot drift from them."""
        return UsageStats.of(self.used_resources, self.resources)

    def owned_by(self, owner: str | None) -> bool:
        """An account with no owner sees every agent; otherwise only the agents it owns."""
        return owner is None or self.attributes.get("owner") == owner


class UsageSample(AsgardModel):
    """One look at an agent's resources, as Asgard's usage history keeps them."""

    at: datetime
    used_resources: Resources = Field(description="Allocated: what the agent's work reserved")
    resources: Resources
    measured_resources: Resources | None = Field(
        None,
        description="In use, as the agent's own meters said (CPU cores busy, resident MiB): "
        "container statistics on Docker and Mesos, the metrics API on Kubernetes; null "
        "where the kind or the cluster has no meter Asgard can read",
    )
