"""What the application holds for its handlers, under typed keys."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from asgard.backends.base import Orchestrator
from asgard.db.engine import Database
from asgard.http.metrics import Metrics
from asgard.services.accounts import AccountsService
from asgard.services.agents import AgentsService
from asgard.services.apps import AppsService
from asgard.services.auth import Authenticator
from asgard.services.clusters import ClustersService
from asgard.services.principal import Principal
from asgard.services.users import UsersService
from asgard.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    orchestrator: Orchestrator
    auth: Authenticator
    users: UsersService
    accounts: AccountsService
    clusters: ClustersService
    agents: AgentsService
    apps: AppsService

    @classmethod
    def build(cls, settings: Settings, db: Database, orchestrator: Orchestrator) -> Services:
        auth = Authenticator(db, signing_key=settings.signing_key(), jwt_ttl_s=settings.jwt_ttl_s)
        return cls(
            settings=settings,
            db=db,
            orchestrator=orchestrator,
            auth=auth,
            users=UsersService(db),
            accounts=AccountsService(db),
            clusters=ClustersService(orchestrator),
            agents=AgentsService(orchestrator),
            apps=AppsService(orchestrator),
        )


SERVICES = web.AppKey("services", Services)
METRICS = web.AppKey("metrics", Metrics)
PRINCIPAL = web.RequestKey("principal", Principal)
REQUEST_ID = web.RequestKey("request_id", str)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def principal(request: web.Request) -> Principal:
    found = request.get(PRINCIPAL)
    if not isinstance(found, Principal):
        raise RuntimeError("principal asked for on a route without authentication")
    return found
