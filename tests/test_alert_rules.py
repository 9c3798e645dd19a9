"""``deploy/prometheus/``: the example alert rules name only metrics Asgard serves, and
fire when and only when their cases say.

The rules (and the series their cases feed them) are read as YAML and every metric their
expressions name is looked for on the ``/metrics`` of a real Asgard with a cluster up and
one down (``tests/support/fleet_metrics.py``): a rule over a renamed or missing metric
would never fire, silently. ``promtool``, from Debian's prometheus package, checks the
rules and runs their cases (``asgard-rules.test.yaml``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import StartAsgard
from tests.support.fleet_metrics import scraped_fleet, until_scraped
from tests.support.resources import needs

PROMETHEUS = Path(__file__).parent.parent / "deploy" / "prometheus"
RULES = PROMETHEUS / "asgard-rules.yaml"
CASES = PROMETHEUS / "asgard-rules.test.yaml"
METRIC = re.compile(r"\basgard_[a-z_]+")
ALERTS = {
    "AsgardClusterDown",
    "AsgardClusterStale",
    "AsgardAppFailing",
    "AsgardAppInstancesMissing",
    "AsgardJobsFailing",
}


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def named_by_rules() -> set[str]:
    return {name for rule in rules() for name in METRIC.findall(rule["expr"])}


def named_by_cases() -> set[str]:
    tests = yaml.safe_load(CASES.read_text())["tests"]
    series = [s["series"] for test in tests for s in test["input_series"]]
    return {name for s in series for name in METRIC.findall(s)}


@pytest.fixture
@needs("promtool")
def promtool() -> Path:
    found = shutil.which("promtool")
    assert found, "no promtool: scripts/system-deps.sh installs it (make test runs it)"
    return Path(found)


def test_the_rules_alert_on_a_cluster_down_or_stale_an_app_or_jobs_failing() -> None:
    found = {rule["alert"]: rule for rule in rules()}
    assert set(found) == ALERTS
    assert found["AsgardClusterDown"]["expr"] == "asgard_cluster_up == 0"
    assert found["AsgardClusterStale"]["expr"] == "asgard_cluster_last_contact_age_seconds > 300"
    for name in ("AsgardClusterDown", "AsgardClusterStale", "AsgardAppFailing"):
        assert found[name]["for"] == "5m", name
    for rule in found.values():
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert "{{ $labels.cluster }}" in rule["annotations"]["summary"]
    assert named_by_cases() == named_by_rules(), "the cases feed every metric the rules read"


async def test_every_metric_the_rules_name_is_served(start_asgard: StartAsgard) -> None:
    async with scraped_fleet(start_asgard) as fleet:
        scraped = await until_scraped(
            fleet,
            lambda s: bool(s.named("asgard_jobs_failed", account="payments")),
            "the accounts' apps and jobs",
        )
        named = named_by_rules()
        assert named, "the expressions name Asgard's metrics"
        missing = named - scraped.names()
        assert not missing, f"named by a rule, not served: {sorted(missing)}"
        assert scraped.value("asgard_cluster_up", cluster="gone") == 0, "what ClusterDown sees"


def test_promtool_checks_the_rules_and_runs_their_cases(promtool: Path) -> None:
    for command in (["check", "rules", RULES.name], ["test", "rules", CASES.name]):
        done = subprocess.run(
            [str(promtool), *command],
            cwd=PROMETHEUS,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"promtool {' '.join(command)}:\n{done.stdout}{done.stderr}"
        assert "SUCCESS" in done.stdout
