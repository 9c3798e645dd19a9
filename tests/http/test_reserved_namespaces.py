"""No account gets a namespace of the clusters' own workloads or of Asgard's: refused with
422 on ``POST /accounts`` and by ``asgard accounts create``; ``default`` only when the
settings allow it; a database made before keeps the accounts it has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asgard.models.namespaces import ReservedNamespaces
from asgard.services.bootstrap import DEFAULT_ACCOUNT
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest

RESERVED = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "openshift-monitoring",
    "asgard",
    "asgard-system",
    "default",
    "payroll",
    "team-secret",
]


def test_the_rule() -> None:
    rules = ReservedNamespaces.parse("payroll, team-*", allow_default=False)
    for namespace in RESERVED:
        assert rules.refusal(namespace), namespace
    for namespace in ("dev", "kube", "kubernetes", "asgard-default", "team", "my-default"):
        assert rules.refusal(namespace) is None, namespace
    assert ReservedNamespaces(allow_default=True).refusal("default") is None
    assert ReservedNamespaces().refusal(DEFAULT_ACCOUNT.namespace) is None


@pytest.fixture
async def asgard(start_asgard: StartAsgard) -> AsgardUnderTest:
    return await start_asgard(reserved_namespaces="payroll,team-*")


@pytest.mark.parametrize("namespace", RESERVED)
async def test_a_reserved_namespace_is_refused_with_422(
    asgard: AsgardUnderTest, namespace: str
) -> None:
    root = await asgard.caller("root@example.com", admin=True)
    refused = await root.post("/accounts", json={"name": "x", "namespace": namespace})
    assert refused.status == 422
    error = (await refused.json())["errors"][0]
    assert error["field"] == "namespace"
    assert "reserved" in error["msg"]
    names = {a["namespace"] for a in (await root.json("GET", "/accounts"))["accounts"]}
    assert namespace not in names


async def test_the_namespace_cannot_be_patched_at_all(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    root = await asgard.caller("root@example.com", admin=True)
    patched = await root.patch(f"/accounts/{account.id}", json={"namespace": "kube-system"})
    assert patched.status == 422
    assert (await root.json("GET", f"/accounts/{account.id}"))["account"]["namespace"] == "dev"


async def test_default_is_allowed_when_configured(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(allow_default_namespace=True)
    root = await asgard.caller("root@example.com", admin=True)
    made = await root.json(
        "POST", "/accounts", status=201, json={"name": "shared", "namespace": "default"}
    )
    assert made["account"]["namespace"] == "default"
    refused = await root.post("/accounts", json={"name": "sys", "namespace": "kube-system"})
    assert refused.status == 422


async def test_the_first_start_account_is_not_in_a_reserved_namespace(
    asgard: AsgardUnderTest,
) -> None:
    root = await asgard.caller("root@example.com", admin=True)
    first = next(
        a for a in (await root.json("GET", "/accounts"))["accounts"] if a["name"] == "default"
    )
    assert first["namespace"] == "asgard-default"


def asgard_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASGARD_")}
    clean["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "asgard", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_line_refuses_them_too(tmp_path: Path) -> None:
    refused = asgard_cli(
        tmp_path, "accounts", "create", "--name", "s", "--namespace", "kube-system"
    )
    assert refused.returncode == 1
    assert "reserved" in refused.stderr
    assert "Traceback" not in refused.stderr
    extra = asgard_cli(
        tmp_path,
        "accounts",
        "create",
        "--name",
        "p",
        "--namespace",
        "payroll",
        ASGARD_RESERVED_NAMESPACES="payroll",
    )
    assert extra.returncode == 1, extra.stdout
    made = asgard_cli(tmp_path, "accounts", "create", "--name", "p", "--namespace", "payroll")
    assert made.returncode == 0, made.stderr
    assert "created account" in made.stdout
