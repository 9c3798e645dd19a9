"""Settings: ``ASGARD_*`` environment variables, and the TOML file that lists clusters."""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from asgard.backends.registry import BackendContext, ClusterConfig, parse_cluster_config
from asgard.cluster_keys import ClusterKeys
from asgard.loops import LoopFactory, unleased
from asgard.models.namespaces import ReservedNamespaces
from asgard.zip_checks import ArchiveLimits

KiB = 1024
MiB = 1024 * KiB
MIN_SECRET_KEY_BYTES = 32
"""A production signing key shorter than this can be guessed offline from one JWT."""


class ConfigError(Exception):
    """The settings or the clusters file cannot be used; the message says why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASGARD_", extra="ignore")

    env: Literal["development", "production"] = Field(
        "development", description="In production a secret key must be given"
    )
    db_url: str = Field(
        "sqlite+aiosqlite:///asgard.db", description="SQLAlchemy URL; SQLite file by default"
    )
    config: Path | None = Field(None, description="The TOML file that lists the clusters")
    secret_key: SecretStr | None = Field(
        None, description="Signs JWTs; in production at least 32 bytes"
    )
    trust_proxy: bool = Field(
        False,
        description="Believe the X-Forwarded-Proto of the proxy in front of Asgard (it "
        "decides HSTS and the Secure cookie); only when every request comes through it",
    )
    metrics_token: SecretStr | None = Field(
        None, description="When set, GET /metrics requires 'Authorization: Bearer <token>'"
    )
    metrics_per_account: bool = Field(
        True,
        description="Give the apps and jobs on /metrics per account and cluster; false: per "
        "cluster only (accounts x clusters series become clusters)",
    )
    host: str = "127.0.0.1"
    port: int = Field(4898, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["json", "console"] | None = Field(
        None, description="console in a terminal, json elsewhere, unless set"
    )
    data_dir: Path = Field(Path("asgard-data"), description="Job artifacts and other files")
    max_body_bytes: int = Field(1 * MiB, gt=0, description="Largest JSON body accepted")
    shutdown_grace_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="On SIGTERM, how long requests in flight may take to finish before they "
        "are cut (the listening socket closes, leases are given up and /events streams end "
        "at once)",
    )
    max_upload_bytes: int = Field(
        64 * MiB,
        gt=0,
        description="Largest upload accepted: a job's input zip (POST /jobs, multipart); the "
        "only routes read past max_body_bytes",
    )
    max_form_bytes: int = Field(
        64 * KiB,
        gt=0,
        description="Largest dashboard form accepted (login, account switch, the pages' "
        "actions); larger ones are refused with 413 before they are read",
    )
    max_input_entries: int = Field(
        10_000, gt=0, description="Most entries (files and folders) a job's input zip may hold"
    )
    max_input_unpacked_bytes: int = Field(
        1024 * MiB, gt=0, description="Most bytes a job's input zip may unpack to"
    )
    max_input_ratio: float = Field(
        200.0,
        gt=1,
        description="Highest compression ratio a job's input zip (or any entry of it larger "
        "than 1 MiB unpacked) may have: a zip bomb's is in the thousands",
    )
    max_output_bytes: int = Field(
        256 * MiB,
        gt=0,
        description="Most bytes of output a job may leave (its /output as the cluster "
        "sends it, or the archive its collector uploads); a job over it ends failed, "
        "saying so, and no output is kept",
    )
    loop_lag_warn_s: float = Field(
        0.1,
        ge=0,
        description="A warning is logged when the event loop answers this much later than "
        "asked (something blocked it); 0 turns the watch off",
    )
    jwt_ttl_s: int = Field(12 * 3600, gt=0, description="How long a JWT stays valid")
    auth_failure_limit: int = Field(
        20,
        ge=1,
        description="Failed authentications one address may make in a minute before further "
        "failures are answered 429 with Retry-After (good credentials always pass)",
    )
    auth_cache_s: float = Field(
        5.0,
        ge=0,
        description="How long a process keeps the keys, users and memberships it read to "
        "authenticate; a change made through another process takes effect within it (0: "
        "read them on every request)",
    )
    session_ttl_s: int = Field(
        8 * 3600,
        gt=0,
        description="How long a dashboard session (the cookie the login page sets) stays valid",
    )
    public_url: str | None = Field(
        None,
        description="Asgard's URL as seen from the clusters, for jobs that fetch their input "
        "and send their output over HTTP (Kubernetes, Mesos)",
    )
    reconcile_s: float = Field(
        30.0, gt=0, description="How often job records are compared with the clusters"
    )
    orphan_grace_s: float = Field(
        600.0,
        ge=0,
        description="How long a job labelled as Asgard's but with no record is only reported "
        "before it is removed",
    )
    job_retention_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="How long a finished job (its record and files) or workflow (its stages "
        "and volume) is kept",
    )
    scheduler_tick_s: float = Field(
        1.0, gt=0, description="How often Asgard's scheduler looks for runs that are due"
    )
    starting_deadline_s: float = Field(
        300.0,
        ge=0,
        description="A scheduled run missed by more than this (Asgard was down) is skipped",
    )
    workflow_tick_s: float = Field(
        1.0, gt=0, description="How often workflows are looked at to start their next stage"
    )
    events_keepalive_s: float = Field(
        15.0,
        gt=0,
        le=15.0,
        description="The longest an /events stream stays quiet: a comment line is sent when "
        "no event was for this long, so proxies do not cut the stream",
    )
    history_interval_s: float = Field(
        15.0, gt=0, description="How often each agent's used and total resources are sampled"
    )
    history_window_s: float = Field(
        3600.0,
        gt=0,
        description="How far back the agents' usage history goes (kept in memory, per process)",
    )
    audit_retention_days: int = Field(
        90,
        ge=1,
        description="How long the audit log keeps an entry; older ones are removed by one "
        "process among all sharing the database",
    )
    audit_prune_s: float = Field(
        3600.0, gt=0, description="How often entries past the audit retention are looked for"
    )
    audit_write_timeout_s: float = Field(
        5.0,
        gt=0,
        description="The longest a batch of audit entries may take to be written; past it "
        "(or with the database down) the entries are dropped and a warning says which",
    )
    cluster_keys: SecretStr | None = Field(
        None,
        description="Fernet keys, separated by commas, that encrypt the secrets of clusters "
        "registered through the API (tokens, passwords); the first encrypts, every one "
        "decrypts. Without them, only clusters without secrets can be registered",
    )
    clusters_poll_s: float = Field(
        5.0,
        gt=0,
        description="How often each process looks whether a cluster was registered, changed "
        "or removed through another process, when it cannot hear PostgreSQL's notices "
        "(SQLite): one small row read",
    )
    bootstrap_admin_email: str = Field(
        "admin@asgard.local", description="E-mail of the admin created on first start"
    )
    reserved_namespaces: str = Field(
        "",
        description="Namespaces no account may have, besides kube-*, openshift-*, asgard "
        "and asgard-system: separated by commas, '*' matching any characters (team-*)",
    )
    allow_default_namespace: bool = Field(
        False, description="Let accounts have the namespace 'default'"
    )

    def namespace_rules(self) -> ReservedNamespaces:
        return ReservedNamespaces.parse(
            self.reserved_namespaces, allow_default=self.allow_default_namespace
        )

    @field_validator("db_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the URLs people write and pick the async driver for them."""
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value[len(plain) :]
        return value

    def backend_context(self, loops: LoopFactory = unleased) -> BackendContext:
        """What the backends get; ``loops`` makes their once-per-deployment loops (the
        server's holds leases in its database)."""
        return BackendContext.local(
            self.data_dir,
            self.signing_key(),
            self.public_url,
            self.private_paths(),
            max_output_bytes=self.max_output_bytes,
            loops=loops,
        )

    def cluster_key_ring(self) -> ClusterKeys:
        """The keys of registered clusters' secrets (``ASGARD_CLUSTER_KEYS``)."""
        given = self.cluster_keys.get_secret_value() if self.cluster_keys is not None else None
        try:
            return ClusterKeys(given)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def archive_limits(self) -> ArchiveLimits:
        """What a job's input zip may hold."""
        return ArchiveLimits(
            max_entries=self.max_input_entries,
            max_unpacked_bytes=self.max_input_unpacked_bytes,
            max_ratio=self.max_input_ratio,
        )

    def private_paths(self) -> tuple[Path, ...]:
        """Asgard's own files outside its data folder: the SQLite database, the clusters
        file. Kinds that run work on this host hide them from it."""
        found = [self.config] if self.config is not None else []
        url = make_url(self.db_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            found.append(Path(url.database))
        return tuple(p.expanduser().absolute() for p in found)

    def signing_key(self) -> str:
        """The JWT key. Development without one gets a key kept in the data directory."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            key = self.secret_key.get_secret_value()
            if self.env == "production" and len(key.encode()) < MIN_SECRET_KEY_BYTES:
                raise ConfigError(
                    f"ASGARD_SECRET_KEY is too short: at least {MIN_SECRET_KEY_BYTES} bytes "
                    "are required when ASGARD_ENV=production (make one with: python3 -c "
                    '"import secrets; print(secrets.token_urlsafe(48))")'
                )
            return key
        if self.env == "production":
            raise ConfigError("ASGARD_SECRET_KEY is required when ASGARD_ENV=production")
        path = self.data_dir / "dev-secret-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def read_clusters_file(path: Path) -> list[ClusterConfig]:
    """Parse the ``[[clusters]]`` of a TOML file, each by the model of its kind."""
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"clusters file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"clusters file {path} is not valid TOML: {exc}") from None
    entries = document.get("clusters", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'clusters' must be an array of tables ([[clusters]])")
    configs: list[ClusterConfig] = []
    for entry in entries:
        try:
            configs.append(parse_cluster_config(entry))
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    names = [c.name for c in configs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{path}: cluster names must be unique, repeated: {', '.join(repeated)}")
    return configs
