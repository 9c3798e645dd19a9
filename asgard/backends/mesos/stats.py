"""What Mesos agents' executors use, from each agent's ``/containers`` statistics.

The agent reports cumulative CPU seconds (user and system) and resident memory per
executor, so CPU in use is the seconds spent between two readings over the time
between them; the agent keeps no history, and Asgard takes both readings itself,
``SAMPLE_INTERVAL_S`` apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from asgard.backends.mesos.masters import Agent as AgentClient
from asgard.models import Resources

__all__ = ["SAMPLE_INTERVAL_S", "busy_cores", "measure_agent"]

SAMPLE_INTERVAL_S = 0.5
MiB = 1024 * 1024
CPU_SECONDS = ("cpus_user_time_secs", "cpus_system_time_secs")


def busy_cores(before: Mapping[str, Any], after: Mapping[str, Any]) -> float:
    """Cores kept busy between two readings of one executor's statistics."""
    elapsed = float(after.get("timestamp", 0)) - float(before.get("timestamp", 0))
    busy = sum(float(after.get(k, 0)) - float(before.get(k, 0)) for k in CPU_SECONDS)
    return max(busy / elapsed, 0.0) if elapsed > 0 else 0.0


async def measure_agent(agent: AgentClient) -> Resources:
    """Everything the agent's executors use now, whoever runs them."""
    first = {c.get("executor_id"): c.get("statistics") or {} for c in await agent.containers()}
    await asyncio.sleep(SAMPLE_INTERVAL_S)
    second = {c.get("executor_id"): c.get("statistics") or {} for c in await agent.containers()}
    cpus = sum(busy_cores(first[k], after) for k, after in second.items() if k in first)
    mem = sum(float(after.get("mem_rss_bytes") or 0) for after in second.values())
    return Resources(cpus=cpus, mem=mem / MiB)
