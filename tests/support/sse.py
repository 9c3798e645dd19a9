"""Reading ``GET /events`` as a client does: server-sent event frames, one JSON each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            for line in frame.decode().splitlines():
                if line.startswith("data: "):
                    yield json.loads(line[6:])


@dataclass
class Frame:
    """One SSE frame as sent: its fields, or a comment line."""

    id: str | None = None
    event: str | None = None
    data: Any = None
    comment: str | None = None


async def frames(response: aiohttp.ClientResponse) -> AsyncIterator[Frame]:
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            frame = Frame()
            for line in raw.decode().splitlines():
                name, _, value = line.partition(": ")
                if line.startswith(":"):
                    frame.comment = line[1:].strip()
                elif name == "id":
                    frame.id = value
                elif name == "event":
                    frame.event = value
                elif name == "data":
                    frame.data = json.loads(value)
            yield frame
