"""Naming the cluster when the account may use several: ``--cluster``, ``ASGARD_CLUSTER``,
or the file's own ``cluster``; none of them is a usage error that lists the choices."""

from __future__ import annotations

import json
from pathlib import Path

from testbed.asgard_process import running_asgard
from tests.cli.conftest import FAST, Cli, cli_env
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon


async def test_a_command_names_its_cluster_when_there_are_several(
    engine: DockerDaemon, tmp_path: Path
) -> None:
    clusters = [
        {"name": "east", "kind": "docker", "url": engine.url},
        {"name": "west", "kind": "docker", "url": engine.url},
    ]
    async with running_asgard(
        tmp_path / "server", clusters, role="operator", settings=FAST
    ) as served:
        env = {"ASGARD_URL": served.url, "ASGARD_TOKEN": served.key}
        cli = Cli(tmp_path, cli_env(tmp_path, env))
        spec = {"id": "web", "image": TEST_IMAGE, "args": SERVE_FOREVER, "instances": 0}
        (tmp_path / "web.json").write_text(json.dumps(spec))

        unnamed = cli.run("apps", "deploy", "-f", "web.json")
        assert unnamed.returncode == 2
        assert "several clusters (east, west): say which with --cluster" in unnamed.stderr
        assert cli.run("jobs", "run", TEST_IMAGE, "--", "true").returncode == 2

        named = cli.ok("apps", "deploy", "-f", "web.json", "--cluster", "west")
        assert named.stdout.startswith("app web created on west")
        by_env = Cli(tmp_path, {**cli.env, "ASGARD_CLUSTER": "west"})
        assert by_env.ok("apps", "scale", "web", "0").stdout.startswith("app web scaled on west")

        (tmp_path / "east.json").write_text(json.dumps({**spec, "cluster": "east", "id": "api"}))
        assert cli.ok("apps", "deploy", "-f", "east.json").stdout.startswith(
            "app api created on east"
        ), "the file names its cluster"
        listed = json.loads(cli.ok("get", "clusters", "-o", "json").stdout)
        assert [c["name"] for c in listed] == ["east", "west"]
