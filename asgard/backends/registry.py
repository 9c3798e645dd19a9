"""Cluster kinds, found through the ``asgard.backends`` entry point group.

A package outside Asgard adds a kind by exposing a ``BackendPlugin`` instance
under that group::

    [project.entry-points."asgard.backends"]
    nomad = "asgard_nomad:plugin"

Each plugin names its kind and the model of its ``[[clusters]]`` entries in the
TOML file, and makes the parts of one cluster from one entry (``ClusterParts``).
The core assembles the cluster from them and applies every field every entry has
(``ClusterConfig``): a plugin never sees to timeouts, the breaker or the cache.
"""

from __future__ import annotations

import asyncio
import re
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import aiohttp
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from asgard.artifacts import DEFAULT_MAX_OUTPUT_BYTES, ArtifactStore
from asgard.backends.contract import ClusterParts
from asgard.backends.safety import DEFAULT_RESERVED_LABEL_PREFIXES
from asgard.errors import AsgardError
from asgard.job_tokens import JobTokens
from asgard.loops import Loop, LoopFactory, Step, unleased
from asgard.models import ClusterCheck

ENTRY_POINT_GROUP = "asgard.backends"

_CLUSTER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _check_cluster_name(value: str) -> str:
    if not _CLUSTER_NAME_RE.match(value):
        raise ValueError("must be letters, digits, '-', '_' or '.', at most 63 characters")
    return value


ClusterName = Annotated[str, AfterValidator(_check_cluster_name)]


class ClusterConfig(BaseModel):
    """What every ``[[clusters]]`` entry has; kinds add their own fields."""

    model_config = ConfigDict(extra="forbid")

    name: ClusterName
    kind: str
    timeout_s: float = Field(10.0, gt=0, description="Budget for one read from this cluster")
    write_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Budget for one change (deploy, update, delete): these wait for the "
        "cluster to stop and start instances",
    )
    cache: bool = Field(True, description="Answer lists from a cache kept by the change feed")
    resync_s: float = Field(
        30.0, gt=0, description="Read everything cached again this often, whatever the feed says"
    )
    poll_s: float = Field(
        10.0, gt=0, description="For kinds without a change feed: how often to look for changes"
    )
    probe_s: float = Field(
        15.0,
        gt=0,
        description="How often the cluster is asked its version in the background, for "
        "GET /clusters (which answers from what Asgard knows)",
    )
    retry_down_s: float = Field(
        5.0,
        gt=0,
        description="Once reads found the cluster down twice in a row, they fail at once and "
        "the cluster is probed this often until it answers",
    )
    reserved_label_prefixes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RESERVED_LABEL_PREFIXES),
        description="Labels and annotations under these prefixes (case ignored) are refused "
        "with 422 in apps, jobs and scheduled jobs: routers read them (Traefik, Marathon-LB). "
        "Asgard's own (asgard.*) are refused whatever this says",
    )
    allow_low_host_ports: bool = Field(
        False,
        description="Let apps publish host ports below 1024 (refused with 422 otherwise: "
        "those are the agents' own services)",
    )
    max_answer_mib: float = Field(
        64.0,
        gt=0,
        description="The largest answer read from this cluster for one call (a page of a "
        "list, an object): a bigger one is this cluster's error, not Asgard's memory",
    )


@dataclass(frozen=True)
class BackendContext:
    """What Asgard offers every backend it builds."""

    data_dir: Path
    artifacts: ArtifactStore
    """Where job input and output zips live (``asgard.artifacts``)."""
    job_tokens: JobTokens
    """Signs tokens that let one job reach its own input and output over HTTP."""
    public_url: str | None = None
    """Asgard's URL as the clusters can reach it, for jobs that fetch their input and send
    their output over HTTP (``asgard.job_tokens.job_file_path``); None if unset."""
    private_paths: tuple[Path, ...] = ()
    """Asgard's own files beyond ``data_dir`` (its SQLite database, its clusters file), which
    a kind that runs work on Asgard's own host must keep that work from reading."""
    loops: LoopFactory = unleased
    """Makes the loops of ``leased``: the server gives one that holds leases in its
    database (``asgard.leases.Leases``)."""

    @classmethod
    def local(
        cls,
        data_dir: Path,
        signing_key: str,
        public_url: str | None = None,
        private_paths: tuple[Path, ...] = (),
        *,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
        loops: LoopFactory = unleased,
    ) -> BackendContext:
        return cls(
            data_dir=data_dir,
            artifacts=ArtifactStore(data_dir / "artifacts", max_output_bytes=max_output_bytes),
            job_tokens=JobTokens(signing_key),
            public_url=public_url,
            private_paths=private_paths,
            loops=loops,
        )

    def leased(self, work: str, cluster: str, step: Step, *, every_s: float) -> Loop:
        """A cluster's work that must run once per deployment, not once per replica (a
        janitor removing old jobs, a collector of jobs' output): ``step`` every
        ``every_s``, in whichever process holds the lease ``<work>:<cluster>``. Where
        the server has no database (a one-off command, a test building a cluster by
        hand), this process alone runs it, unleased. Start it in the backend's
        ``start`` and close it in its ``close``."""
        return self.loops(
            f"{work}:{cluster}", step, every_s=every_s, log_context={"cluster": cluster}
        )


C = TypeVar("C", bound=ClusterConfig)


class BackendPlugin(ABC, Generic[C]):
    """A kind of cluster: the model of its entries, and how one entry becomes parts."""

    kind: ClassVar[str]
    config_model: type[C]

    @abstractmethod
    async def parts(self, config: C, context: BackendContext) -> ClusterParts:
        """The parts of one cluster. Connect lazily: the cluster may be down, and Asgard
        starts anyway and reports it unreachable."""

    async def default_config(self) -> C | None:
        """A cluster of this kind to serve when no clusters file is given (Docker: the
        local engine, when one answers). None: the kind is used only when a file names it."""
        return None

    async def check(self, config: C, context: BackendContext) -> ClusterCheck:
        """What registering the cluster checks before saving it: that it answers (its
        version, within the entry's ``timeout_s``), then what it lets Asgard do
        (``missing_permissions``). Nothing is started: the parts are made, asked, closed."""
        parts = await self.parts(config, context)
        try:
            try:
                async with asyncio.timeout(config.timeout_s):
                    version = await parts.client.version()
            except (AsgardError, TimeoutError, OSError, aiohttp.ClientError) as exc:
                return ClusterCheck(reachable=False, error=_reason(exc, config.timeout_s))
            try:
                async with asyncio.timeout(config.timeout_s):
                    missing = await self.missing_permissions(config, parts)
            except (AsgardError, TimeoutError, OSError, aiohttp.ClientError) as exc:
                missing = [f"cannot tell: {_reason(exc, config.timeout_s)}"]
            return ClusterCheck(reachable=True, version=version, missing=missing)
        finally:
            await parts.client.close()

    async def missing_permissions(self, config: C, parts: ClusterParts) -> list[str]:
        """What Asgard needs to do on the cluster and may not, one line each (``list
        nodes``); a kind that cannot tell says nothing is missing."""
        return []


def _reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, AsgardError):
        return exc.msg
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    return f"{type(exc).__name__}: {exc}"


def secret_fields(model: type[ClusterConfig]) -> list[str]:
    """The fields of a kind's entries that hold secrets (``SecretStr``): stored encrypted,
    never shown."""
    return sorted(
        name
        for name, info in model.model_fields.items()
        if info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation)
    )


class UnknownKind(ValueError):
    pass


@cache
def installed_plugins() -> dict[str, BackendPlugin[Any]]:
    plugins: dict[str, BackendPlugin[Any]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry.load()
        if not isinstance(plugin, BackendPlugin):
            raise TypeError(f"entry point {entry.name!r} is not a BackendPlugin: {plugin!r}")
        plugins[plugin.kind] = plugin
    return plugins


def plugin_for(kind: str) -> BackendPlugin[Any]:
    plugins = installed_plugins()
    if kind not in plugins:
        known = ", ".join(sorted(plugins)) or "none"
        raise UnknownKind(f"unknown cluster kind '{kind}' (installed kinds: {known})")
    return plugins[kind]


class InvalidEntry(ValueError):
    """A cluster entry its kind's model refuses; ``problems`` names each field."""

    def __init__(self, name: object, problems: list[tuple[str, str]]) -> None:
        said = "; ".join(f"{where}: {msg}" for where, msg in problems)
        super().__init__(f"cluster {name!r}: {said}")
        self.problems = problems


def parse_cluster_config(entry: dict[str, Any]) -> ClusterConfig:
    """One ``[[clusters]]`` entry, validated by the model of its kind."""
    kind = entry.get("kind")
    if not isinstance(kind, str):
        raise InvalidEntry(entry.get("name", "?"), [("kind", "has no 'kind'")])
    plugin = plugin_for(kind)
    try:
        config: ClusterConfig = plugin.config_model.model_validate(entry)
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in e["loc"]) or "entry", e["msg"]) for e in exc.errors()]
        raise InvalidEntry(entry.get("name", "?"), problems) from None
    return config
