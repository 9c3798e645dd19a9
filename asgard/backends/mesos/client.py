"""Everything one Mesos cluster is made of, reached through one HTTP session."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import aiohttp

from asgard.backends.contract import ClusterClient
from asgard.backends.health import part_failed
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.config import MesosClusterConfig
from asgard.backends.mesos.marathon import Marathon
from asgard.backends.mesos.masters import MesosMasters
from asgard.backends.mesos.transport import JsonHttp
from asgard.errors import AsgardError


def _auth(user: str | None, password: object) -> str | None:
    """The Authorization header for HTTP basic auth, or None without a user."""
    if user is None:
        return None
    secret = password.get_secret_value() if hasattr(password, "get_secret_value") else ""
    return aiohttp.encode_basic_auth(user, secret)


async def _noted(part: str, asked: Awaitable[object]) -> None:
    """Ask one part within the probe; a failure is that part's, noted and not raised (one
    that answered something unusable, a page behind a proxy, too: it did not answer)."""
    try:
        await asked
    except Exception as exc:  # any answer the part's client could not use
        part_failed(
            part, exc.msg if isinstance(exc, AsgardError) else f"{type(exc).__name__}: {exc}"
        )


class MesosClient(ClusterClient):
    names_parts = True

    def __init__(self, config: MesosClusterConfig) -> None:
        self.config = config
        self.cluster = config.name
        self.http = JsonHttp(config.name, config.timeout_s, int(config.max_answer_mib * 2**20))
        self.masters = MesosMasters(self.http, config.mesos_urls)
        self.marathon = Marathon(
            self.http, config.marathon_urls, _auth(config.marathon_user, config.marathon_password)
        )
        self.chronos = Chronos(
            self.http, config.chronos_url, _auth(config.chronos_user, config.chronos_password)
        )

    async def version(self) -> str:
        """The masters' version. Marathon and Chronos are asked too, each answer or failure
        noted as that part's health (``asgard.backends.health``): a part that failed once
        is known to be back within a probe, though nobody listed its apps since. Their
        failures are not the probe's: the masters answering keeps reads of agents open."""
        masters = asyncio.ensure_future(self.masters.version())
        await asyncio.gather(masters, *self._others_alive(), return_exceptions=True)
        return masters.result()

    def _others_alive(self) -> list[Awaitable[None]]:
        alive: list[Awaitable[None]] = []
        if self.marathon.urls:
            alive.append(_noted("marathon", self.marathon.version()))
        if self.chronos.url is not None:
            alive.append(_noted("chronos", self.chronos.alive()))
        return alive

    async def close(self) -> None:
        await self.http.close()
