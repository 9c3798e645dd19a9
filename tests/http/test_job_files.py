"""The two routes a running job calls with its own token: its input, and its output."""

from __future__ import annotations

from asgard.job_tokens import JobGrant
from asgard.testing.files import a_zip
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest
from tests.support.watching import eventually

GRANT = JobGrant(cluster="k8s", namespace="dev", job_id="etl-abc123")
BASE = "/clusters/k8s/jobs/etl-abc123"


def bearer(asgard: AsgardUnderTest, grant: JobGrant = GRANT, ttl_s: int = 60) -> dict[str, str]:
    return {"Authorization": f"Bearer {asgard.services.job_tokens.issue(grant, ttl_s)}"}


async def test_a_job_reads_its_input_and_leaves_its_output(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    store = asgard.services.job_files.artifacts
    missing = await asgard.client.get(f"{BASE}/input", headers=bearer(asgard))
    assert missing.status == 404

    given = a_zip({"data.csv": b"1,2,3\n"})
    await store.save_input("k8s", "dev", "etl-abc123", given)
    response = await asgard.client.get(f"{BASE}/input", headers=bearer(asgard))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert await response.read() == given

    result = a_zip({"result.txt": b"6\n"})
    stored = await asgard.client.put(f"{BASE}/output", data=result, headers=bearer(asgard))
    assert stored.status == 204
    assert await store.read_output("k8s", "dev", "etl-abc123") == result


async def test_a_job_token_opens_only_its_own_job(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    other = JobGrant(cluster="k8s", namespace="dev", job_id="another-job")
    response = await asgard.client.get(f"{BASE}/input", headers=bearer(asgard, other))
    assert response.status == 403
    assert (await asgard.client.get(f"{BASE}/input")).status == 401
    user_key = {"Authorization": "Token asg_x_y"}
    assert (await asgard.client.get(f"{BASE}/input", headers=user_key)).status == 401
    forged = {"Authorization": "Bearer " + asgard.services.job_tokens.issue(GRANT, 60)[:-3] + "abc"}
    assert (await asgard.client.get(f"{BASE}/input", headers=forged)).status == 401


async def test_a_job_token_expires(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    headers = bearer(asgard, ttl_s=1)

    async def refused() -> bool:
        return (await asgard.client.get(f"{BASE}/input", headers=headers)).status != 404

    await eventually(refused, "the job token expires", 10)
    response = await asgard.client.get(f"{BASE}/input", headers=headers)
    assert response.status == 401
    assert "expired" in (await response.json())["errors"][0]["msg"]


async def test_output_must_be_a_zip(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    response = await asgard.client.put(f"{BASE}/output", data=b"not a zip", headers=bearer(asgard))
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "body"
    evil = a_zip({"../../etc/passwd": b"x"})
    response = await asgard.client.put(f"{BASE}/output", data=evil, headers=bearer(asgard))
    assert response.status == 422
