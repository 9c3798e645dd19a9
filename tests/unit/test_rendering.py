"""Lists made from kept JSON say exactly what the models would."""

from __future__ import annotations

import json

from asgard.http.rendering import Fragments, list_response
from asgard.http.schemas import AgentList
from asgard.models import Agent, ClusterErrorInfo, Resources, UsageStats


def agent(n: int) -> Agent:
    return Agent(
        id=f"node-{n}",
        cluster="k8s",
        type="KUBERNETES",
        hostname=f"node-{n}",
        active=True,
        attributes={"zone": "a"},
        resources=Resources(cpus=4, mem=8192),
        used_resources=Resources(cpus=1.5, mem=192),
    )


def test_a_list_from_kept_json_is_the_models_json() -> None:
    agents = [agent(n) for n in range(5)]
    rest = {
        "stats": UsageStats(cpu_pct=37.5, ram_pct=2.35),
        "errors": [ClusterErrorInfo(cluster="gone", msg="down", kind="unreachable")],
        "next_cursor": "abc",
        "total": 7,
        "as_of": {},
    }
    response = list_response(AgentList, agents, **rest)
    assert response.text == AgentList(agents=agents, **rest).model_dump_json()
    assert json.loads(response.text or "")["agents"][0]["stats"]["cpu_pct"] == 37.5
    assert (
        list_response(AgentList, [], **rest).text == AgentList(agents=[], **rest).model_dump_json()
    )


def test_an_items_json_is_made_once_per_object() -> None:
    kept = Fragments(limit=2)
    first, same, other = agent(1), agent(1), agent(2)
    text = kept.of(first)
    assert kept.of(first) is text, "the same object: the same JSON, not made again"
    again = kept.of(same)
    assert again == text
    assert again is not text, "an equal object is another object: its own JSON"
    kept.of(other)
    assert len(kept._kept) == 2, "bounded"
