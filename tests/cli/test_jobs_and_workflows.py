"""``asgard jobs run`` and ``asgard workflows run`` against a running ``asgard serve``."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.support.dockerd import TEST_IMAGE

SCRIPT = (
    "cat /input/notes/a.txt; wc -w < /input/notes/a.txt | tr -d ' ' > /output/words.txt; "
    "mkdir -p /output/deep && echo kept > /output/deep/b.txt; echo to-stderr >&2; exit 3"
)


def test_a_job_takes_a_folder_gives_one_back_and_its_exit_code(cli: Cli) -> None:
    notes = cli.cwd / "in" / "notes"
    notes.mkdir(parents=True)
    (notes / "a.txt").write_text("three little words\n")
    done = cli.run(
        "jobs", "run", TEST_IMAGE, "--input", "in", "--output", "out", "--wait",
        "--", "sh", "-c", SCRIPT,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "three little words" in done.stdout.splitlines()
    assert "input from in: " in done.stderr, "the upload is said when it ends"
    assert "job busybox-" in done.stderr
    assert (cli.cwd / "out" / "words.txt").read_text().strip() == "3"
    assert (cli.cwd / "out" / "deep" / "b.txt").read_text() == "kept\n"
    assert not list((cli.cwd / "out").glob(".*.zip")), "the zip is unpacked, then gone"

    ok = cli.run("jobs", "run", TEST_IMAGE, "--name", "fine", "--wait", "--", "echo", "-n", "x")
    assert (ok.returncode, ok.stdout) == (0, "x\n")

    started = cli.ok("jobs", "run", TEST_IMAGE, "--name", "later", "--", "true")
    job_id = started.stdout.strip()
    assert job_id.startswith("later-"), "without --wait: the job's id, alone"
    jobs = json.loads(cli.ok("get", "jobs", "-o", "json").stdout)
    assert job_id in [j["id"] for j in jobs]


WORKFLOW = f"""
name: pipeline
stages:
  - name: make
    image: {TEST_IMAGE}
    command: [sh, -c, "echo 21 > /output/n"]
  - name: double
    image: {TEST_IMAGE}
    command: [sh, -c, "test $(cat /input/n) = 21"]
"""


def test_a_workflow_is_run_and_waited_for(cli: Cli) -> None:
    (cli.cwd / "flow.yaml").write_text(WORKFLOW)
    done = cli.run("workflows", "run", "-f", "flow.yaml", "--wait")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("pipeline-")
    assert "stage make: succeeded" in done.stderr
    assert "stage double: succeeded" in done.stderr
    assert "succeeded" in done.stderr.splitlines()[-1]

    (cli.cwd / "fails.json").write_text(
        json.dumps(
            {
                "name": "broken",
                "stages": [{"name": "no", "image": TEST_IMAGE, "command": ["false"]}],
            }
        )
    )
    failed = cli.run("workflows", "run", "-f", "fails.json", "--wait")
    assert failed.returncode == 1
    assert "stage no: failed" in failed.stderr
    flows = json.loads(cli.ok("get", "workflows", "-o", "json").stdout)
    assert sorted(f["state"] for f in flows) == ["failed", "succeeded"]
