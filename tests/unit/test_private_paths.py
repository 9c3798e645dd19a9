"""Asgard's own files outside its data folder, which kinds that run work on Asgard's host
(the ``local`` kind) hide from it: the SQLite database and the clusters file."""

from __future__ import annotations

from pathlib import Path

from asgard.settings import Settings


def test_the_sqlite_database_and_the_clusters_file_are_private(tmp_path: Path) -> None:
    settings = Settings(
        db_url=f"sqlite:///{tmp_path}/db/asgard.db",
        config=tmp_path / "conf" / "clusters.toml",
        data_dir=tmp_path / "data",
    )
    assert settings.private_paths() == (
        tmp_path / "conf" / "clusters.toml",
        tmp_path / "db" / "asgard.db",
    )
    assert settings.backend_context().private_paths == settings.private_paths()


def test_a_relative_database_is_found_from_the_working_folder() -> None:
    assert Settings(db_url="sqlite:///asgard.db").private_paths() == (Path.cwd() / "asgard.db",)


def test_a_database_server_or_memory_has_no_file() -> None:
    assert Settings(db_url="postgresql://u:p@db/asgard").private_paths() == ()
    assert Settings(db_url="sqlite+aiosqlite:///:memory:").private_paths() == ()
