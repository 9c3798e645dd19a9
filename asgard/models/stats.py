"""Resource usage of an app."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from asgard.models.base import AsgardModel


class StatsWindow(StrEnum):
    ONE_HOUR = "1h"
    ONE_MINUTE = "1m"


class AppStats(AsgardModel):
    cpu_pct: float | None = Field(
        description="CPU used over CPU allotted, summed over instances; null when unknown"
    )
    ram_pct: float | None = Field(
        description="Memory used over memory allotted, summed over instances; null when unknown"
    )
    cpu_thr_pct: float | None = Field(
        0.0, description="Share of periods in which the CPU was throttled; null when unknown"
    )
    source: Literal["average", "sample"] = Field(
        description="'average' over the window where the cluster keeps history, else 'sample'"
    )
    window: StatsWindow | None = Field(None, description="The window averaged over, if any")
    sampled_at: datetime | None = None
    instances: int = Field(0, description="How many instances the figures cover")
    message: str | None = None
