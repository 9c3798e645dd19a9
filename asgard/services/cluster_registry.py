"""Registering, changing and removing clusters at run time: administrators only.

The rules: an entry is what a clusters file's entry would be, validated by its kind's
model (422 naming the field); a name the clusters file or another registered cluster
has is taken (409); the clusters file's entries are read-only here (409: the file is
where they change, and the next start would bring them back); secrets are accepted
only when Asgard has a key to encrypt them with (422 otherwise), and never shown; a new
cluster is checked (it answers, and lets Asgard do what it needs) before it is saved,
unless asked not to. The change is served by this process before the answer, and by the
others once they hear of it (``asgard.registered_clusters``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import (
    BackendContext,
    ClusterConfig,
    InvalidEntry,
    UnknownKind,
    installed_plugins,
    parse_cluster_config,
    plugin_for,
)
from asgard.cluster_entries import secrets_of, settings_of, shown, shown_config
from asgard.cluster_keys import ClusterKeys, KeysMissing, UnreadableSecrets
from asgard.db.clusters import ClusterStore
from asgard.db.engine import Database
from asgard.errors import Conflict, ErrorDetail, InvalidValue, NotFound
from asgard.models import ClusterCheck, ClusterEntry, StoredCluster
from asgard.services.principal import Principal

__all__ = ["Checker", "ClusterRegistry"]

Checker = Callable[[ClusterConfig, BackendContext], Awaitable[ClusterCheck]]
FIXED = ("name", "kind")
"""What a PATCH cannot change: a cluster of another name or kind is another cluster."""


async def check_by_kind(config: ClusterConfig, context: BackendContext) -> ClusterCheck:
    """The check of the cluster's kind (``BackendPlugin.check``)."""
    return await plugin_for(config.kind).check(config, context)


def validated(entry: dict[str, Any]) -> ClusterConfig:
    """The entry as its kind's model reads it; 422 naming each field it refuses."""
    try:
        return parse_cluster_config(entry)
    except UnknownKind as exc:
        raise InvalidValue(str(exc), field="kind") from None
    except InvalidEntry as exc:
        raise InvalidValue(
            str(exc), details=[ErrorDetail(msg=msg, field=where) for where, msg in exc.problems]
        ) from None


class ClusterRegistry:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        keys: ClusterKeys,
        context: BackendContext,
        *,
        file_names: frozenset[str],
        apply: Callable[[], Awaitable[None]] | None = None,
        checker: Checker = check_by_kind,
    ) -> None:
        """``apply``: serves what the registry holds now, in this process (the others
        hear the ``clusters`` notice or poll)."""
        self.db = db
        self.orchestrator = orchestrator
        self.keys = keys
        self.context = context
        self.file_names = file_names
        self.apply = apply
        self.checker = checker

    # reading

    async def get(self, principal: Principal, name: str) -> ClusterEntry:
        principal.require_admin()
        served = self.orchestrator.clusters.get(name)
        status = served.known_status() if served is not None else None
        if name in self.file_names and served is not None:
            return ClusterEntry(
                name=name,
                kind=served.kind,
                source="file",
                settings=shown_config(served.config),
                status=status,
            )
        stored = await self._stored(name)
        return _entry(stored, status)

    @staticmethod
    def kinds() -> list[str]:
        """The kinds a cluster may be registered as: those installed here."""
        return sorted(installed_plugins())

    async def registered(self, principal: Principal) -> list[ClusterEntry]:
        """Every cluster registered through the API, with what is known of it here."""
        principal.require_admin()
        async with self.db.session() as session:
            rows = await ClusterStore(session).all()
        served = self.orchestrator.clusters
        return [
            _entry(r, served[r.name].known_status() if r.name in served else None)
            for r in rows
            if r.name not in self.file_names
        ]

    async def _stored(self, name: str) -> StoredCluster:
        async with self.db.session() as session:
            found = await ClusterStore(session).get(name)
        if found is None or name in self.file_names:
            raise NotFound(f"unknown cluster '{name}'", field="cluster", cluster=name)
        return found

    # changing

    async def create(
        self, principal: Principal, entry: dict[str, Any], *, check: bool = True
    ) -> ClusterEntry:
        """Register a cluster: validated, its name free, its secrets encryptable, checked
        (unless ``check`` is false), then saved and served."""
        principal.require_admin()
        config = validated(entry)
        if config.name in self.file_names:
            raise Conflict(f"the cluster '{config.name}' is in the clusters file", field="name")
        secrets = self._sealed(config)
        if check:
            found = await self.checker(config, self.context)
            if not found.passed:
                raise InvalidValue(
                    f"cluster '{config.name}' did not pass its check: "
                    + "; ".join(found.reasons()),
                    details=[ErrorDetail(msg=r, field="check") for r in found.reasons()],
                )
        async with self.db.writing() as session:
            await ClusterStore(session).add(
                config.name, config.kind, settings_of(config), secrets, sorted(secrets_of(config))
            )
        await self._changed()
        return await self.get(principal, config.name)

    async def update(self, principal: Principal, name: str, patch: dict[str, Any]) -> ClusterEntry:
        """Change a registered cluster's entry: the fields given replace theirs, a null
        puts a field back to its default; its secrets stay unless given again."""
        principal.require_admin()
        self._writable(name)
        fixed = [f for f in FIXED if f in patch]
        if fixed:
            raise InvalidValue(f"a cluster's {fixed[0]} cannot change", field=fixed[0])
        stored = await self._stored(name)
        given = {k: v for k, v in patch.items() if v is not None}
        dropped = {k for k, v in patch.items() if v is None}
        before = self._opened(stored) if set(stored.secret_names) - set(patch) else {}
        entry = {
            **{k: v for k, v in stored.settings.items() if k not in dropped},
            **{k: v for k, v in before.items() if k not in dropped},
            **given,
            "name": name,
            "kind": stored.kind,
        }
        config = validated(entry)
        secrets = self._sealed(config)
        async with self.db.writing() as session:
            changed = await ClusterStore(session).replace(
                name, settings_of(config), secrets, sorted(secrets_of(config))
            )
        if changed is None:
            raise NotFound(f"unknown cluster '{name}'", field="cluster", cluster=name)
        await self._changed()
        return await self.get(principal, name)

    async def delete(self, principal: Principal, name: str) -> None:
        principal.require_admin()
        self._writable(name)
        async with self.db.writing() as session:
            removed = await ClusterStore(session).delete(name)
        if not removed:
            raise NotFound(f"unknown cluster '{name}'", field="cluster", cluster=name)
        await self._changed()

    async def rotate_keys(self) -> int:
        """Every registered cluster's secrets encrypted again with the first key (for
        ``asgard clusters rotate-key``); how many were. Nothing else changes, so no
        process assembles its clusters again."""
        async with self.db.writing() as session:
            store = ClusterStore(session)
            rows = [r for r in await store.all() if r.secrets]
            for row in rows:
                assert row.secrets is not None
                try:
                    await store.reencrypt(row.name, self.keys.rotate(row.secrets))
                except UnreadableSecrets as exc:
                    raise Conflict(f"cluster '{row.name}': {exc}", cluster=row.name) from None
        return len(rows)

    # the rules

    def _writable(self, name: str) -> None:
        if name in self.file_names:
            raise Conflict(
                f"the cluster '{name}' is in the clusters file: change it there",
                field="cluster",
            )

    def _sealed(self, config: ClusterConfig) -> str | None:
        """The entry's secrets encrypted; None without any. 422 when there are secrets
        and no key to encrypt them with."""
        secrets = secrets_of(config)
        if not secrets:
            return None
        try:
            return self.keys.encrypt(secrets)
        except KeysMissing as exc:
            raise InvalidValue(
                f"{exc}: set ASGARD_CLUSTER_KEYS to register a cluster with "
                f"{', '.join(sorted(secrets))}",
                field=sorted(secrets)[0],
            ) from None

    def _opened(self, stored: StoredCluster) -> dict[str, Any]:
        """The stored secrets in plain text, to validate a changed entry with them."""
        if not stored.secrets:
            return {}
        try:
            return self.keys.decrypt(stored.secrets)
        except (KeysMissing, UnreadableSecrets) as exc:
            raise InvalidValue(
                f"cluster '{stored.name}': {exc}", field=(stored.secret_names or ["secrets"])[0]
            ) from None

    async def _changed(self) -> None:
        """Serve the change here now, and tell the other processes."""
        if self.apply is not None:
            await self.apply()
        self.db.notices.publish("clusters")


def _entry(stored: StoredCluster, status: Any) -> ClusterEntry:
    return ClusterEntry(
        name=stored.name,
        kind=stored.kind,
        source="api",
        settings=shown(stored.settings, stored.secret_names),
        status=status,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )
