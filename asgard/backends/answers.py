"""What a cluster answered, read once and checked once, for every kind's client.

A cluster's endpoint can answer in every way a real one fails: a proxy's 404 for a
wrong URL, a single-sign-on wall's HTML page with a 200, JSON cut short by a load
balancer, JSON of another API, a body of gigabytes, headers and then nothing, or a
busy API server's 429 with ``Retry-After``. None of that is the request's fault nor
Asgard's: each becomes ``UnusableAnswer`` naming the cluster and what was wrong, so
the fan-out shows it as that cluster's ``errors`` entry and nothing else fails.

The clients of every kind read answers through ``read_json`` (status already
checked: content type, size, JSON, shape) and ``read_text`` (an error body, bounded),
and wait out a ``Retry-After`` with ``retry_delay``; nothing here knows a kind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import aiohttp

from asgard.errors import UnusableAnswer

__all__ = [
    "DEFAULT_CAP_BYTES",
    "ERROR_CAP_BYTES",
    "RETRY_ATTEMPTS",
    "expect_keys",
    "left_s",
    "parse_json",
    "read_bounded",
    "read_json",
    "read_text",
    "retry_delay",
    "unusable",
]

DEFAULT_CAP_BYTES: Final = 64 * 2**20
"""The largest JSON answer read by default (``max_answer_mib`` of a cluster entry)."""
ERROR_CAP_BYTES: Final = 64 * 2**10
"""An error's body is only read for its message: this much is plenty."""
RETRY_ATTEMPTS: Final = 5
"""How many times a call answered 429 or 503 with ``Retry-After`` is sent, at most."""
RETRY_STATUSES: Final = frozenset({429, 503})


def unusable(cluster: str, what: str, server: str, problem: str) -> UnusableAnswer:
    """The one way an unusable answer is worded: the call, who answered, what was wrong.
    The cluster's name travels beside it (``ClusterError.cluster``)."""
    return UnusableAnswer(cluster, f"{what}: {server} answered {problem}")


async def read_bounded(
    response: aiohttp.ClientResponse, *, cap: int, cluster: str, what: str, server: str
) -> bytes:
    """The whole body, refused once it grows past ``cap`` bytes (whatever the
    Content-Length said, which a misbehaving server may not send at all)."""
    declared = response.content_length
    if declared is not None and declared > cap:
        raise unusable(cluster, what, server, f"a body of {declared} bytes, over {cap}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > cap:
            raise unusable(cluster, what, server, f"a body over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_text(response: aiohttp.ClientResponse, *, limit: int = ERROR_CAP_BYTES) -> str:
    """The start of an error's body, for its message; never more than ``limit`` bytes."""
    data = b""
    async for chunk in response.content.iter_any():
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit].decode(errors="replace").strip()


async def read_json(
    response: aiohttp.ClientResponse,
    *,
    cluster: str,
    what: str,
    server: str,
    cap: int = DEFAULT_CAP_BYTES,
    expect: type[dict[str, Any]] | type[list[Any]] | None = None,
) -> Any:
    """The JSON a successful answer carries, checked: a JSON content type (or none at
    all, as some servers send), at most ``cap`` bytes, whole JSON, and of the type
    ``expect`` says. An empty body is None."""
    content_type = response.headers.get("Content-Type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime and mime != "application/json" and not mime.endswith("+json"):
        start = await read_text(response, limit=200)
        raise unusable(cluster, what, server, f"{mime or 'no content type'}, not JSON: {start!r}")
    body = await read_bounded(response, cap=cap, cluster=cluster, what=what, server=server)
    return parse_json(body, cluster=cluster, what=what, server=server, expect=expect)


def parse_json(
    body: bytes,
    *,
    cluster: str,
    what: str,
    server: str,
    expect: type[dict[str, Any]] | type[list[Any]] | None = None,
) -> Any:
    """``body`` as JSON of the type ``expect`` says; an empty body is None."""
    if not body.strip():
        if expect is not None:
            raise unusable(cluster, what, server, "an empty body, not JSON")
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise unusable(cluster, what, server, f"JSON that does not parse ({exc})") from None
    if expect is not None and not isinstance(data, expect):
        found = type(data).__name__
        wanted = "an object" if expect is dict else "an array"
        raise unusable(cluster, what, server, f"JSON of the wrong shape: {found}, not {wanted}")
    return data


def expect_keys(data: Any, keys: tuple[str, ...], *, cluster: str, what: str, server: str) -> Any:
    """``data`` if it is an object holding every one of ``keys``; an answer without them
    is another API's, whatever its status said."""
    if not isinstance(data, dict):
        raise unusable(cluster, what, server, f"JSON of the wrong shape: {type(data).__name__}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise unusable(
            cluster, what, server, f"JSON of the wrong shape: no {', '.join(map(repr, missing))}"
        )
    return data


def left_s(scope: asyncio.Timeout) -> float | None:
    """How long the ``asyncio.timeout`` ``scope`` still leaves; None when it has no end."""
    when = scope.when()
    return None if when is None else when - asyncio.get_running_loop().time()


def retry_delay(status: int, headers: Mapping[str, str], budget_s: float | None) -> float | None:
    """How long to wait before sending a call again that was answered ``status``: for a
    429 or 503 with a ``Retry-After`` (seconds or an HTTP date) that fits within
    ``budget_s`` (the call's timeout, what is left of it), that delay; otherwise None,
    and the answer is the error it says."""
    if status not in RETRY_STATUSES:
        return None
    value = headers.get("Retry-After")
    if not value:
        return None
    delay = _seconds(value.strip())
    if delay is None or delay < 0:
        return None
    if budget_s is not None and delay >= budget_s:
        return None
    return delay


def _seconds(value: str) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
