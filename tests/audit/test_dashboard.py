"""The dashboard's writes are writes through the API: its logins, logouts and actions are
recorded like the JSON routes' writes, and the key typed into the login form never is."""

from __future__ import annotations

from tests.audit.site import audited_site, rid
from tests.conftest import StartAsgard
from tests.ui.ui_client import Browser, login

APP = {"cluster": "k8s", "id": "web", "image": "nginx"}


async def test_logins_logouts_and_actions_of_the_dashboard_are_recorded(
    start_asgard: StartAsgard, db_url: str
) -> None:
    async with audited_site(start_asgard, db_url) as site:
        client, op = site.asgard.client, site.operator
        await op.json("POST", "/apps", 201, json=APP)
        refused, _ = await login(client, "asg_wrong_notthekeyatall", **rid("ui-bad-login"))
        assert refused.status == 401
        answer, token = await login(client, op.key, **rid("ui-login"))
        assert answer.status == 303
        ops = Browser(client, token)
        csrf = await ops.csrf()
        form = {"csrf_token": csrf, "instances": "2"}
        scaled = await ops.request(
            "POST", "/ui/clusters/k8s/apps/web/scale", data=form, headers=rid("ui-scale")
        )
        assert scaled.status == 303
        forged = await ops.request(
            "POST", "/ui/clusters/k8s/apps/web/restart", data={}, headers=rid("ui-forged")
        )
        assert forged.status == 403
        client.session.cookie_jar.clear()
        anonymous = await client.post(
            "/ui/clusters/k8s/apps/web/delete", headers=rid("ui-anonymous"), allow_redirects=False
        )
        assert anonymous.status == 302
        out = await ops.request(
            "POST", "/ui/logout", data={"csrf_token": csrf}, headers=rid("ui-out")
        )
        assert out.status == 303

        entries = await site.by_request()
        user, dev = op.user.id, site.dev.id
        bad = entries["ui-bad-login"]
        assert (bad["resource"], bad["action"], bad["status"]) == ("session", "login", 401)
        assert (bad["user"], bad["outcome"]) == (None, "refused")
        good = entries["ui-login"]
        assert (good["user"], good["account"], good["status"]) == (user, dev, 303)
        assert (good["outcome"], good["id"]) == ("succeeded", None)
        scale = entries["ui-scale"]
        assert (scale["resource"], scale["action"], scale["id"]) == ("app", "scale", "web")
        assert (scale["cluster"], scale["account"], scale["user"]) == ("k8s", dev, user)
        forgery = entries["ui-forged"]
        assert (forgery["action"], forgery["status"], forgery["user"]) == ("restart", 403, user)
        nobody = entries["ui-anonymous"]
        assert (nobody["action"], nobody["user"], nobody["outcome"]) == ("delete", None, "refused")
        logout = entries["ui-out"]
        assert (logout["action"], logout["user"], logout["status"]) == ("logout", user, 303)
        rows = "\n".join(await site.rows())
        for secret in (op.key, token, csrf, "notthekeyatall"):
            assert secret not in rows
