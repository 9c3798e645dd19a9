"""``asgard login`` and ``asgard get`` against a running ``asgard serve``."""

from __future__ import annotations

import json
import stat

import yaml

from testbed.asgard_process import RunningAsgard
from tests.cli.conftest import Cli
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon


def test_login_keeps_the_key_for_the_user_alone(cli: Cli, served: RunningAsgard) -> None:
    alone = Cli(
        cli.cwd, {k: v for k, v in cli.env.items() if k not in ("ASGARD_URL", "ASGARD_TOKEN")}
    )
    refused = alone.run("login", "--url", served.url, input="asg_wrong_key\n")
    assert refused.returncode == 1
    assert refused.stderr.startswith("asgard: ")
    assert "Traceback" not in refused.stderr
    config = cli.cwd.parent / "config" / "asgard" / "config.toml"
    assert not config.exists(), "a key the server refused is not kept"

    done = alone.ok("login", "--url", served.url + "/", input=served.key + "\n")
    assert f"logged in to {served.url} as bench@example.com" in done.stdout
    assert served.key not in done.stdout + done.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert f'url = "{served.url}"' in config.read_text()

    listed = alone.ok("get", "clusters")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "KIND", "STATUS", "VERSION", "LATENCY"]
    assert listed.stdout.splitlines()[1].split()[:3] == ["local", "docker", "ok"]

    elsewhere = Cli(alone.cwd, {**alone.env, "ASGARD_TOKEN": "asg_not_this_one"})
    overridden = elsewhere.run("get", "apps")
    assert overridden.returncode == 1, "ASGARD_TOKEN wins over the saved key"
    assert "asgard: " in overridden.stderr


def test_get_lists_every_resource_as_tables_json_and_yaml(cli: Cli, engine: DockerDaemon) -> None:
    spec = {"cluster": "local", "id": "web", "image": TEST_IMAGE, "args": SERVE_FOREVER}
    (cli.cwd / "web.json").write_text(json.dumps(spec))
    cli.ok("apps", "deploy", "-f", "web.json")
    cli.ok("jobs", "run", TEST_IMAGE, "--name", "hello", "--wait", "--", "echo", "hi")

    agents = json.loads(cli.ok("get", "agents", "-o", "json").stdout)
    assert [a["cluster"] for a in agents] == ["local"]
    info = json.loads(engine.cli("info", "--format", "{{json .}}"))
    assert agents[0]["resources"]["cpus"] == info["NCPU"]

    assert json.loads(cli.ok("get", "agents", "-o", "json", "--attr", "zone=mars").stdout) == []

    apps = yaml.safe_load(cli.ok("get", "apps", "-o", "yaml").stdout)
    assert [(a["cluster"], a["id"], a["image"]) for a in apps] == [("local", "web", TEST_IMAGE)]
    table = cli.ok("get", "apps").stdout.splitlines()
    assert table[0].split() == ["CLUSTER", "ID", "STATUS", "RUNNING", "IMAGE"]
    assert table[1].split()[:2] == ["local", "web"]
    assert "TYPE" in cli.ok("get", "apps", "-o", "wide").stdout.splitlines()[0]
    assert "\x1b[" not in "\n".join(table), "no colours or boxes into a pipe"

    jobs = json.loads(cli.ok("get", "jobs", "-o", "json", "--state", "succeeded").stdout)
    assert [j["name"] for j in jobs] == ["hello"]
    assert json.loads(cli.ok("get", "jobs", "-o", "json", "--state", "failed").stdout) == []
    assert json.loads(cli.ok("get", "workflows", "-o", "json").stdout) == []
    assert yaml.safe_load(cli.ok("get", "scheduled-jobs", "-o", "yaml").stdout) == []
    clusters = json.loads(cli.ok("get", "clusters", "-o", "json", "--probe").stdout)
    assert [(c["name"], c["status"]) for c in clusters] == [("local", "ok")]
    unknown = cli.run("get", "apps", "--cluster", "elsewhere")
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert (
        unknown.stderr.strip()
        == "asgard: unknown cluster 'elsewhere' (field cluster, cluster elsewhere)"
    )
