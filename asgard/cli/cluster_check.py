"""``asgard clusters check``: ask every cluster the server would serve for its version.

That is the clusters file's entries (or, without one, the local Docker Engine when it
answers) and the clusters registered through the API, which live in the database with
their secrets encrypted (``ASGARD_CLUSTER_KEYS``). A registered entry that cannot be
opened here (no key, a key that does not read it, a setting its kind no longer accepts)
is a line of the report and a failed check, as a cluster that does not answer is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asgard.backends.registry import ClusterConfig
    from asgard.settings import Settings

__all__ = ["check_clusters"]


async def check_clusters(settings: Settings) -> tuple[str, bool]:
    """The report, a line per cluster, and whether every cluster answered."""
    from asgard.clusters import build_fleet, cluster_configs

    configs = await cluster_configs(settings)
    registered, unreadable = await _registered(settings, {c.name for c in configs})
    configs += registered
    if not configs and not unreadable:
        return "no clusters configured, and no local Docker Engine answers", False
    fleet = await build_fleet(configs, settings.backend_context())
    try:
        statuses = await fleet.statuses(None, live=True)
    finally:
        await fleet.close()
    rows: list[tuple[str, str, str]] = [(name, "?", why) for name, why in unreadable]
    healthy = not unreadable
    for status in statuses:
        if status.status == "ok":
            latency = f"{status.latency_ms:.1f} ms" if status.latency_ms is not None else ""
            rows.append(
                (status.name, status.kind, f"ok           version {status.version}  {latency}")
            )
        else:
            healthy = False
            rows.append((status.name, status.kind, f"unreachable  {status.error}"))
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name:<{width}}  {kind:<10}  {said}".rstrip() for name, kind, said in sorted(rows)]
    return "\n".join(lines), healthy


def _no_database_yet(db_url: str) -> bool:
    """An SQLite file that does not exist: opening it would create it."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    return url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists())


async def _registered(
    settings: Settings, in_file: set[str]
) -> tuple[list[ClusterConfig], list[tuple[str, str]]]:
    """The registered clusters the server would serve (a file's entry of the same name
    wins), and (name, why) for each that cannot be opened. None without a database yet:
    a check does not create one."""
    if _no_database_yet(settings.db_url):
        return [], []
    from sqlalchemy.exc import SQLAlchemyError

    from asgard.cluster_entries import config_of
    from asgard.db.clusters import ClusterStore
    from asgard.db.engine import Database

    db = Database(settings.db_url)
    try:
        async with db.session() as session:
            rows = await ClusterStore(session).all()
    except SQLAlchemyError:
        return [], []  # a database Asgard never set up holds no registered cluster
    finally:
        await db.close()
    keys = settings.cluster_key_ring()
    configs, unreadable = [], []
    for row in rows:
        if row.name in in_file:
            continue
        try:
            configs.append(config_of(row, keys))
        except Exception as exc:  # KeysMissing, UnreadableSecrets, a setting now refused
            unreadable.append((row.name, f"cannot be read: {exc}"))
    return configs, unreadable
