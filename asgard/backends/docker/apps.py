"""Apps of a Docker cluster: a Swarm's services, or the single engine's labelled containers.

Stats are a sample the engine takes now: the Docker Engine keeps no history.
"""

from __future__ import annotations

from asgard.backends.contract import AppsBackend, LogStream
from asgard.backends.docker.config import KIND
from asgard.backends.docker.stats import INTERVAL_S, Usage, sample_all
from asgard.backends.docker.variants import Variants
from asgard.models import (
    Account,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    AppVersion,
    StatsWindow,
    Task,
)
from asgard.models.base import pct, round_up_pct, utc_now


def app_stats_from(usages: list[Usage], skipped: int) -> AppStats:
    message = (
        f"the Docker Engine keeps no history: a sample of {len(usages)} running instance(s) "
        f"over {INTERVAL_S:g} s"
    )
    if skipped:
        message += f"; {skipped} instance(s) on other nodes cannot be sampled from this manager"
    return AppStats(
        cpu_pct=round_up_pct(sum(u.cpu_pct for u in usages)),
        ram_pct=pct(sum(u.mem_used for u in usages), sum(u.mem_limit for u in usages)),
        cpu_thr_pct=pct(sum(u.throttled_periods for u in usages), sum(u.periods for u in usages)),
        source="sample",
        window=None,
        sampled_at=utc_now(),
        instances=len(usages),
        message=message,
    )


class DockerAppsBackend(AppsBackend):
    def __init__(self, variants: Variants) -> None:
        super().__init__(variants.client.cluster, KIND)
        self.variants = variants
        self.client = variants.client

    async def list_apps(self, account: Account) -> list[App]:
        return await (await self.variants.current()).reader.apps(account)

    async def get_app(self, account: Account, app_id: str) -> App:
        return await (await self.variants.current()).reader.app(account, app_id)

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        return await (await self.variants.current()).reader.tasks(account, app_id)

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        return await (await self.variants.current()).deployer.create(account, spec)

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        return await (await self.variants.current()).deployer.update(account, app_id, patch)

    async def delete_app(self, account: Account, app_id: str) -> None:
        await (await self.variants.current()).deployer.delete(account, app_id)

    async def restart_app(self, account: Account, app_id: str) -> App:
        return await (await self.variants.current()).deployer.restart(account, app_id)

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """What runs; a Swarm service also keeps the spec before it. Older ones are what
        Asgard recorded deploying (the service joins them)."""
        return await (await self.variants.current()).reader.versions(account, app_id)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        return await (await self.variants.current()).deployer.redeploy(
            account, app_id, version.spec
        )

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        reader = (await self.variants.current()).reader
        containers, skipped = await reader.running_containers(account, app_id)
        return app_stats_from(await sample_all(self.client, containers), skipped)

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        reader = (await self.variants.current()).reader
        return await reader.logs(account, app_id, tail=tail, follow=follow)
