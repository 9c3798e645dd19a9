"""Making sure an image exists before anything is created for it.

An app or job whose image does not exist must fail with a clear 422 and leave
nothing behind, so the image is checked (and pulled if the engine can) first.
"""

from __future__ import annotations

import asyncio
import json

from asgard.backends.docker.client import DockerClient
from asgard.errors import ClusterFailure, InvalidValue, NotFound

PULL_BUDGET_S = 120.0


def split_reference(image: str) -> tuple[str, str]:
    """``repo:tag`` (``latest`` when absent); digests stay in the repository part."""
    if "@" in image:
        return image, ""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, "latest"
    return name, tag


async def ensure_image(client: DockerClient, image: str) -> None:
    """Present locally, or pulled now; otherwise ``InvalidValue`` naming the image."""
    try:
        await client.request("GET", client.image_path(image), what=f"image {image}")
        return
    except NotFound:
        pass
    name, tag = split_reference(image)
    params = {"fromImage": name, **({"tag": tag} if tag else {})}
    try:
        async with (
            asyncio.timeout(PULL_BUDGET_S),
            client.stream(
                "POST",
                client.path("images", "create"),
                what=f"pull {image}",
                params=params,
                timeout_s=PULL_BUDGET_S,
            ) as response,
        ):
            async for line in response.content:
                event = json.loads(line) if line.strip() else {}
                if event.get("error"):
                    raise InvalidValue(
                        f"image '{image}' does not exist and could not be pulled: {event['error']}",
                        field="image",
                    )
    except TimeoutError:
        raise InvalidValue(
            f"image '{image}' does not exist and could not be pulled in {PULL_BUDGET_S:g} s",
            field="image",
        ) from None
    except (NotFound, ClusterFailure) as exc:
        raise InvalidValue(
            f"image '{image}' does not exist and could not be pulled: {exc.msg}", field="image"
        ) from None
