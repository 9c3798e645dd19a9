"""The fleet on ``/metrics``, scraped from a real Asgard over the Kubernetes emulator, a
static cluster and a cluster that is down (``tests/support/fleet_metrics.py``): each
cluster's health, feed, calls and cache, each account's apps and jobs per cluster, and
nothing an account may no longer see; per cluster only when asked; behind its token."""

from __future__ import annotations

from asgard.http.fleet_metrics import FLEET_METRICS
from asgard.models import Role
from tests.conftest import StartAsgard, running_kube
from tests.support.fleet_metrics import Scraped, scraped_fleet, until_scraped

LABELS = {"cluster", "kind", "version", "state", "call", "le", "resource", "account"}
"""Every label a fleet series may carry: none names an app, a task, a job or an agent."""
TOKEN = "a-token-for-the-scraper-alone"


def apps_settled(scraped: Scraped) -> bool:
    """The apps run as many instances as they ask for, and the failed job is seen."""
    running = scraped.by("asgard_app_instances_running", "account", cluster="k8s")
    failed = scraped.by("asgard_jobs_failed", "account", cluster="k8s")
    return running == {"payments": 3, "search": 3} and failed.get("payments") == 1


async def test_each_cluster_and_each_account_is_on_metrics(start_asgard: StartAsgard) -> None:
    async with scraped_fleet(start_asgard) as fleet:
        scraped = await until_scraped(fleet, apps_settled, "the apps running, the job failed")

        assert scraped.by("asgard_cluster_up", "cluster") == {"k8s": 1, "lab": 1, "gone": 0}
        kinds = {
            s.labels["cluster"]: s.labels["kind"] for s in scraped.named("asgard_cluster_info")
        }
        assert kinds == {"k8s": "kubernetes", "lab": "static", "gone": "kubernetes"}
        ages = scraped.by("asgard_cluster_last_contact_age_seconds", "cluster")
        assert set(ages) == {"k8s", "lab"}, "gone never answered: no age"
        assert all(0 <= age < 60 for age in ages.values())
        for cluster in ("k8s", "lab", "gone"):
            states = scraped.by("asgard_cluster_feed_state", "state", cluster=cluster)
            assert sorted(states) == ["behind", "current", "cut", "off"]
            assert sum(states.values()) == 1, f"{cluster}: one state at a time, {states}"
        assert scraped.value("asgard_cluster_feed_state", cluster="k8s", state="current") == 1

        agents = await fleet.payments.json("GET", "/agents?cluster=k8s")
        held = scraped.by("asgard_cluster_cache_items", "resource", cluster="k8s")
        assert held["agents"] == agents["total"] == 2, "each node once, however many scopes"
        assert held["apps"] == 4, "web, api, index and old: every namespace held"

        def per_account(name: str) -> dict[str, float]:
            return scraped.by(name, "account", cluster="k8s")

        assert per_account("asgard_apps") == {"payments": 2, "search": 1}
        assert per_account("asgard_app_instances_desired") == {"payments": 3, "search": 3}
        assert per_account("asgard_app_instances_running") == {"payments": 3, "search": 3}
        assert per_account("asgard_apps_failing") == {"payments": 0, "search": 0}
        failed = per_account("asgard_jobs_failed")
        assert (failed["payments"], failed["search"]) == (1, 0)
        accounts = {s.labels.get("account") for s in scraped.samples} - {None}
        assert "gone-only" not in accounts, "gone-only may not use k8s any more"
        assert accounts <= {"payments", "search", "default"}, "the reconciler reads default's"

        calls = "asgard_cluster_call_duration_seconds"
        writes = scraped.value(f"{calls}_count", cluster="k8s", call="write")
        assert writes == 5, "four apps and a job created"
        assert scraped.value(f"{calls}_bucket", cluster="k8s", call="write", le="+Inf") == 5
        assert scraped.value(f"{calls}_count", cluster="gone", call="read") >= 1
        assert not scraped.named(f"{calls}_count", cluster="lab", call="write")

        for sample in scraped.samples:
            if not sample.name.startswith("asgard_http_"):
                assert set(sample.labels) <= LABELS, sample
        assert set(FLEET_METRICS) <= scraped.names(), "every fleet metric served"


async def test_a_feed_that_breaks_and_comes_back_is_counted(start_asgard: StartAsgard) -> None:
    async with scraped_fleet(start_asgard) as fleet:
        first = await until_scraped(
            fleet,
            lambda s: s.value("asgard_cluster_feed_state", cluster="lab", state="current") == 1,
            "lab's feed current",
        )
        assert first.value("asgard_cluster_feed_reconnects_total", cluster="lab") == 0
        fleet.lab_feed.cut()
        again = await until_scraped(
            fleet,
            lambda s: s.value("asgard_cluster_feed_reconnects_total", cluster="lab") == 1,
            "lab's feed reconnected once",
        )
        assert again.value("asgard_cluster_feed_reconnects_total", cluster="k8s") == 0


async def test_per_cluster_only_and_behind_the_token(start_asgard: StartAsgard) -> None:
    async with scraped_fleet(start_asgard, metrics_per_account=False, metrics_token=TOKEN) as fleet:
        refused = await fleet.asgard.client.get("/metrics")
        assert refused.status == 401
        wrong = await fleet.asgard.client.get("/metrics", headers={"Authorization": "Bearer no"})
        assert wrong.status == 401
        key = await fleet.asgard.client.get("/metrics", headers=fleet.payments.headers)
        assert key.status == 401, "an API key is not the metrics token"

        bearer = {"Authorization": f"Bearer {TOKEN}"}
        scraped = await until_scraped(
            fleet,
            lambda s: s.by("asgard_app_instances_running", "cluster").get("k8s") == 6,
            "every account's instances running, summed",
            **bearer,
        )
        assert scraped.by("asgard_apps", "cluster") == {"k8s": 3, "lab": 0}
        assert scraped.value("asgard_app_instances_desired", cluster="k8s") == 6
        assert scraped.value("asgard_jobs_failed", cluster="k8s") == 1
        assert all("account" not in s.labels for s in scraped.samples)


async def test_a_cluster_without_a_cache_gives_what_each_listing_last_found(
    start_asgard: StartAsgard,
) -> None:
    """No cache (the entry says ``cache = false``): an account's series are what its last
    listing there found, and there are none before it lists."""
    async with running_kube() as kube:  # its orchestrator given as is: no cache enabled
        assert kube.cluster.cache is None
        asgard = await start_asgard(kube.orchestrator)
        account = await asgard.account("payments")
        caller = await asgard.caller("pay@example.com", roles={account.id: Role.OPERATOR})
        spec = {"cluster": "k8s", "id": "web", "image": "web:1", "instances": 2}
        await caller.json("POST", "/apps", status=201, json=spec)

        before = Scraped.of(await (await asgard.client.get("/metrics")).text())
        assert before.value("asgard_cluster_feed_state", cluster="k8s", state="off") == 1
        assert not before.named("asgard_apps"), "nothing listed yet"
        assert not before.named("asgard_cluster_feed_reconnects_total")
        assert not before.named("asgard_cluster_cache_items")

        await caller.json("GET", "/apps")
        listed = Scraped.of(await (await asgard.client.get("/metrics")).text())
        assert listed.value("asgard_apps", cluster="k8s", account="payments") == 1
        assert listed.value("asgard_app_instances_desired", cluster="k8s", account="payments") == 2
        assert not listed.named("asgard_jobs_failed", account="payments"), "its jobs never listed"
