"""Cluster kinds come from entry points, and the clusters file is validated by each kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgard.backends.registry import UnknownKind, installed_plugins, plugin_for
from asgard.settings import ConfigError, read_clusters_file
from tests.support.static_backend import StaticClusterConfig


def test_kinds_are_found_through_entry_points() -> None:
    kinds = installed_plugins()
    assert "docker" in kinds
    assert "static" in kinds, "a package outside asgard registered its kind"
    assert plugin_for("static").config_model is StaticClusterConfig


def test_an_unknown_kind_names_the_installed_ones() -> None:
    with pytest.raises(UnknownKind, match=r"installed kinds: .*docker"):
        plugin_for("nomad")


def test_the_clusters_file_is_read_by_each_kinds_model(tmp_path: Path) -> None:
    path = tmp_path / "asgard.toml"
    path.write_text(
        """
[[clusters]]
name = "local"
kind = "docker"
url = "unix:///var/run/docker.sock"
timeout_s = 2.5

[[clusters]]
name = "lab"
kind = "static"
agents = [{ id = "a1", attributes = { owner = "team-a" } }]
"""
    )
    configs = read_clusters_file(path)
    assert [(c.name, c.kind) for c in configs] == [("local", "docker"), ("lab", "static")]
    assert configs[0].timeout_s == 2.5
    assert isinstance(configs[1], StaticClusterConfig)
    assert configs[1].agents[0]["id"] == "a1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[clusters]]\nname = "x"\nkind = "nomad"\n', "unknown cluster kind 'nomad'"),
        ('[[clusters]]\nname = "x"\n', "has no 'kind'"),
        ('[[clusters]]\nname = "x"\nkind = "docker"\nport = 1\n', "port: Extra inputs"),
        ('[[clusters]]\nname = "bad name"\nkind = "docker"\n', "name:"),
        (
            '[[clusters]]\nname = "a"\nkind = "docker"\n' * 2,
            "unique",
        ),
        ("clusters = 3", "array of tables"),
        ("[[clusters]\n", "not valid TOML"),
    ],
)
def test_a_bad_clusters_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "asgard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_clusters_file(path)


def test_a_missing_clusters_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_clusters_file(tmp_path / "nope.toml")
