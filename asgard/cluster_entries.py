"""A registered cluster's entry, between what is given, what is kept and what is shown.

Given: the fields of a ``[[clusters]]`` entry, validated by its kind's model. Kept: the
fields as given but the secrets (every ``SecretStr`` field of the model), and the secrets
encrypted (``asgard.cluster_keys``). Shown: the fields as given, each secret that is set
as ``"set"``. The registry service and the processes that serve registered clusters
both go through here, so a secret takes one way in and one way out.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from asgard.backends.registry import ClusterConfig, parse_cluster_config, plugin_for, secret_fields
from asgard.cluster_keys import ClusterKeys
from asgard.models import StoredCluster
from asgard.models.cluster import SECRET_SHOWN
from asgard.redact import redact

__all__ = ["config_of", "secrets_of", "settings_of", "shown", "shown_config"]


def secrets_of(config: ClusterConfig) -> dict[str, str]:
    """The entry's secrets that are set, in plain text (to be encrypted at once)."""
    found: dict[str, str] = {}
    for name in secret_fields(type(config)):
        value = getattr(config, name)
        if isinstance(value, SecretStr):
            found[name] = value.get_secret_value()
    return found


def settings_of(config: ClusterConfig) -> dict[str, Any]:
    """The entry's fields as given, without its name, kind or secrets: what is kept in
    the clear (defaults not given stay defaults, should a later Asgard change them)."""
    hidden = {"name", "kind", *secret_fields(type(config))}
    return config.model_dump(mode="json", exclude_unset=True, exclude=hidden)


def config_of(stored: StoredCluster, keys: ClusterKeys) -> ClusterConfig:
    """The entry again, secrets decrypted: what the cluster is assembled from. Raises
    ``KeysMissing``/``UnreadableSecrets`` for secrets that cannot be read, ``ValueError``
    for an entry its kind no longer accepts."""
    secrets = keys.decrypt(stored.secrets) if stored.secrets else {}
    return parse_cluster_config(
        {**stored.settings, **secrets, "name": stored.name, "kind": stored.kind}
    )


def shown(settings: dict[str, Any], secret_names: list[str]) -> dict[str, Any]:
    """What an administrator is shown of an entry: its settings, credentials a URL
    carries taken out (``asgard.redact``), a secret that is set as ``"set"``."""
    return {**_redacted(settings), **dict.fromkeys(secret_names, SECRET_SHOWN)}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def shown_config(config: ClusterConfig) -> dict[str, Any]:
    """A clusters file's entry as it is shown: every field it gives, secrets as ``"set"``."""
    return shown(settings_of(config), sorted(secrets_of(config)))


def kind_secrets(kind: str) -> list[str]:
    """The names of the secret fields of a kind's entries; none for an unknown kind."""
    try:
        return secret_fields(plugin_for(kind).config_model)
    except ValueError:
        return []
