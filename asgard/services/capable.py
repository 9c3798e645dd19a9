"""Refusing early what a cluster cannot do, from its capabilities, before asking it.

Whole operations a cluster lacks are refused by the core from their marks
(``asgard.backends.operations.needs``). What the services refuse here depends on a
request's argument (an input zip, ``since``, ``timeout_s``) or comes once a job is found
(its logs, its output): a kind would refuse them the same way, only later."""

from __future__ import annotations

from asgard.backends.orchestrator import Orchestrator
from asgard.errors import NotSupported
from asgard.models import Account
from asgard.models.cluster import REFUSED_AS

__all__ = ["require"]


def require(
    orchestrator: Orchestrator,
    account: Account,
    cluster: str,
    capability: str,
    doing: str | None = None,
) -> None:
    """``NotSupported`` (501) saying ``doing`` when the cluster lacks ``capability``."""
    if orchestrator.capabilities(account, cluster).lacking(capability):
        kind = orchestrator.kind(account, cluster)
        raise NotSupported(kind, doing or REFUSED_AS[capability], cluster=cluster)
