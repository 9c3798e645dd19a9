"""The kind as Asgard finds it: through its entry point, from a ``[[clusters]]`` entry;
and a cluster that was built but never started (a one-off command) runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgard_local.config import LocalClusterConfig
from asgard_local.plugin import LocalPlugin
from local_support import DEV, running_cluster

from asgard.backends.contract import AppsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext, parse_cluster_config, plugin_for
from asgard.clusters import assemble
from asgard.errors import ClusterUnreachable


def test_the_kind_is_found_through_its_entry_point() -> None:
    assert isinstance(plugin_for("local"), LocalPlugin)
    config = parse_cluster_config(
        {"name": "this-host", "kind": "local", "run_as": "nobody", "attributes": {"owner": "a"}}
    )
    assert isinstance(config, LocalClusterConfig)
    assert (config.run_as, config.attributes, config.stop_grace_s) == ("nobody", {"owner": "a"}, 10)
    with pytest.raises(ValueError, match="state_folder"):
        parse_cluster_config({"name": "this-host", "kind": "local", "state_folder": "/x"})


async def test_a_cluster_never_started_runs_nothing(tmp_path: Path) -> None:
    """``asgard clusters check`` builds clusters without starting them: it answers, but a
    process it started would outlive it unwatched, so it starts none."""
    config = LocalClusterConfig(name="local", state_dir=tmp_path / "state")
    cluster = await assemble(config, BackendContext.local(tmp_path / "data", "test-secret"))
    orchestrator = Orchestrator([cluster])
    try:
        [status] = await orchestrator.statuses(DEV)
        assert status.status == "ok"
        assert (status.version or "").startswith("local/")
        with pytest.raises(ClusterUnreachable, match="only a running Asgard server"):
            await orchestrator.call(DEV, "local", AppsBackend.list_apps)
    finally:
        await orchestrator.close()
    assert not (tmp_path / "state" / "lock").exists()


async def test_a_state_folder_that_cannot_be_made_makes_the_cluster_unreachable(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    async with running_cluster(tmp_path / "a-file") as running:
        with pytest.raises(ClusterUnreachable) as refused:
            await running.call(DEV, AppsBackend.list_apps)
        assert "cannot use the state folder" in refused.value.msg
        assert refused.value.details[0].cluster == "local"
        [status] = await running.orchestrator.statuses(DEV)
        assert status.status == "unreachable"
