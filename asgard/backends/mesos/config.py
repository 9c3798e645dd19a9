"""The configuration of a ``mesos`` cluster: its masters, Marathons and Chronos."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, SecretStr

from asgard.backends.registry import ClusterConfig

KIND: Final = "mesos"


class MesosClusterConfig(ClusterConfig):
    kind: Literal["mesos"] = "mesos"
    mesos_urls: list[str] = Field(min_length=1, description="Every master; the leader is found")
    marathon_urls: list[str] = Field(
        default_factory=list,
        description="Marathon instances; the leader comes from X-Marathon-Leader",
    )
    marathon_user: str | None = None
    marathon_password: SecretStr | None = None
    chronos_url: str | None = Field(None, description="Chronos, for scheduled and one-time jobs")
    chronos_user: str | None = None
    chronos_password: SecretStr | None = None
    agent_concurrency: int = Field(16, ge=1, le=256, description="Agents asked at once")
    tasks_page_size: int = Field(500, ge=1, le=10_000, description="Tasks per /master/tasks call")
