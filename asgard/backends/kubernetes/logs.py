"""A pod's log as timestamped lines (``pods/<name>/log`` with ``timestamps=true``).

The API server stamps each line with the time the container runtime wrote it, so lines
of several pods can be put in time order. It does not say which of stdout and stderr a
line came from: every line's ``stream`` is ``output``. ``sinceTime`` takes whole
seconds, so the lines of that second before ``since`` itself are left out here, as the
contract's ``task_logs`` says.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asgard.backends.contract import LogLines
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.log_lines import LineSplitter, stamped
from asgard.models.base import utc_now

__all__ = ["pod_lines", "pod_log_params"]


def pod_log_params(
    *, container: str | None, tail: int, since: datetime | None, follow: bool
) -> dict[str, str]:
    params = {
        "timestamps": "true",
        "tailLines": str(tail),
        "follow": "true" if follow else "false",
    }
    if container:
        params["container"] = container
    if since is not None:
        whole = since.astimezone(UTC).replace(microsecond=0, tzinfo=None)
        params["sinceTime"] = whole.isoformat() + "Z"  # zero-padded, even for year 1
    return params


async def pod_lines(
    client: KubeClient,
    namespace: str,
    pod: str,
    *,
    container: str | None,
    tail: int,
    since: datetime | None,
    follow: bool,
) -> LogLines:
    params = pod_log_params(container=container, tail=tail, since=since, follow=follow)
    splitter = LineSplitter()
    last = since or utc_now()
    async with client.stream(
        ("api", "v1", "namespaces", namespace, "pods", pod, "log"),
        what=f"logs of {pod}",
        params=params,
    ) as response:
        async for chunk in response.content.iter_any():
            for raw in splitter.feed(chunk):
                line = stamped(pod, "output", raw, last)
                last = line.ts
                if since is None or line.ts >= since:
                    yield line
    for raw in splitter.rest():
        line = stamped(pod, "output", raw, last)
        if since is None or line.ts >= since:
            yield line
