"""What Asgard knows of a cluster's health without asking it again.

``GET /clusters`` used to ask every cluster its version on every request, so it cost
as much as the slowest cluster each time. Now every answer a cluster gives (to any
operation) and every failure is noted here, a background probe asks its version every
``probe_s`` to keep the version and latency current, and the list is built from that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asgard.models.base import utc_now

__all__ = ["Health"]


@dataclass
class Health:
    version: str | None = None
    latency_ms: float | None = None
    last_contact_at: datetime | None = None
    error: str | None = None
    """The last failure, when it is newer than the last answer."""
    down_since: datetime | None = None
    """The first failure since the last answer: since when what Asgard knows is stale."""
    probed: bool = False
    """Whether a probe (background or live) has told the version and latency yet."""

    def answered(self) -> bool:
        """Note an answer; True when it ends an outage (the last call had failed)."""
        ended_an_outage = self.error is not None
        self.last_contact_at = utc_now()
        self.error = self.down_since = None
        return ended_an_outage

    def failed(self, error: str) -> bool:
        """Note a failure; True when it begins an outage (the last call had answered)."""
        began_an_outage = self.error is None
        if began_an_outage:
            self.down_since = utc_now()
        self.error = error
        return began_an_outage

    def probed_now(self, version: str, latency_ms: float) -> None:
        self.version, self.latency_ms, self.probed = version, latency_ms, True
