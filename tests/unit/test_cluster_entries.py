"""A registered cluster's entry on its way in and out: which fields are secrets, what is
kept in the clear, what is shown, and the keys that encrypt the rest (rotation too)."""

from __future__ import annotations

import pytest

from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.mesos.config import MesosClusterConfig
from asgard.backends.registry import secret_fields
from asgard.cli.clusters import parse_settings
from asgard.cli.errors import UsageError
from asgard.cluster_entries import config_of, secrets_of, settings_of, shown, shown_config
from asgard.cluster_keys import ClusterKeys, KeysMissing, UnreadableSecrets, new_key
from asgard.events import Audience, Event, EventHub
from asgard.models import StoredCluster
from asgard.models.base import utc_now
from asgard.services.agents import _names
from asgard.services.kept_answers import KeptAnswers

TOKEN = "tok-123"


def test_the_secret_fields_are_the_models_secret_strings() -> None:
    assert secret_fields(KubernetesClusterConfig) == ["token"]
    assert secret_fields(MesosClusterConfig) == ["chronos_password", "marathon_password"]


def test_an_entry_is_kept_without_its_secrets_and_shown_with_them_set() -> None:
    config = KubernetesClusterConfig(
        name="k", url="https://user:pw@10.0.0.1:6443", token=TOKEN, timeout_s=3
    )
    assert secrets_of(config) == {"token": TOKEN}
    kept = settings_of(config)
    assert kept == {"url": "https://user:pw@10.0.0.1:6443", "timeout_s": 3.0}
    assert shown(kept, ["token"]) == {
        "url": "https://10.0.0.1:6443",
        "timeout_s": 3.0,
        "token": "set",
    }
    assert TOKEN not in str(shown_config(config))


def test_the_entry_comes_back_whole_with_its_keys() -> None:
    keys = ClusterKeys(new_key())
    config = KubernetesClusterConfig(name="k", url="https://10.0.0.1", token=TOKEN)
    stored = StoredCluster(
        name="k",
        kind="kubernetes",
        settings=settings_of(config),
        secrets=keys.encrypt(secrets_of(config)),
        secret_names=["token"],
        created_at=utc_now(),
        updated_at=utc_now(),
    )
    assert TOKEN not in (stored.secrets or "")
    again = config_of(stored, keys)
    assert again == config
    with pytest.raises(KeysMissing):
        config_of(stored, ClusterKeys(None))
    with pytest.raises(UnreadableSecrets):
        config_of(stored, ClusterKeys(new_key()))


def test_rotation_re_encrypts_with_the_first_key_and_the_old_one_can_go() -> None:
    old, new = new_key(), new_key()
    sealed = ClusterKeys(old).encrypt({"token": TOKEN})
    both = ClusterKeys(f"{new}, {old}")
    assert both.decrypt(sealed) == {"token": TOKEN}
    rotated = both.rotate(sealed)
    assert ClusterKeys(new).decrypt(rotated) == {"token": TOKEN}
    with pytest.raises(UnreadableSecrets):
        ClusterKeys(old).decrypt(rotated)


def test_keys_that_are_not_fernet_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="Fernet keys"):
        ClusterKeys("not-a-key")
    assert not ClusterKeys("").available


def test_the_command_line_takes_settings_but_never_a_secret() -> None:
    assert parse_settings(["timeout_s=5", "url=https://x", "verify_ssl=false"], "kubernetes") == {
        "timeout_s": 5,
        "url": "https://x",
        "verify_ssl": False,
    }
    for pair in (f"token={TOKEN}", "marathon_password=x", "api_secret=x"):
        with pytest.raises(UsageError, match="never on the command line"):
            parse_settings([pair], None)
    with pytest.raises(UsageError, match="key=value"):
        parse_settings(["timeout_s"], None)


def test_a_cluster_forgotten_leaves_no_event_in_the_buffer_nor_kept_answer() -> None:
    hub = EventHub()
    for cluster in ("a", "b", "a"):
        event = Event(kind="cluster", cluster=cluster, id=cluster, change="modified", object={})
        hub.publish(Audience(cluster=cluster, namespace=None), [event])
    hub.forget_cluster("a")
    assert [e.cluster for _, e in hub._buffer] == ["b"]

    kept: KeptAnswers[str] = KeptAnswers()
    kept.put("q1", (("a", 1), ("b", 2)), "over a and b")
    kept.put("q2", (("b", 2),), "over b")
    kept.forget(lambda version: _names(version, "a"))
    assert kept.get("q1", (("a", 1), ("b", 2))) is None
    assert kept.get("q2", (("b", 2),)) == "over b"
