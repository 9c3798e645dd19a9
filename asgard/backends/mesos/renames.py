"""Renaming the Chronos jobs Asgard named before ``_`` ended the namespace.

A scheduled job used to be ``<namespace>-<name>``. That name does not say whose it
is when one namespace is a prefix of another (``team-b-nightly`` is ``team``'s
``b-nightly`` or ``team-b``'s ``nightly``), so Asgard never reads such names as
anyone's. This one-time step (``asgard migrate-names``) knows every account's
namespace: a job whose old name fits exactly one namespace is copied to its new
name (``team-b_nightly``) and the old one deleted; one that fits several is left
alone and reported, for the operator to say whose it is (``assigned``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.job_converters import SEPARATOR

__all__ = ["Rename", "plan_renames", "rename_old_jobs"]


@dataclass(frozen=True)
class Rename:
    old: str
    new: str | None
    """None: left as it is, for the ``reason``."""
    reason: str = ""


def _fits(name: str, namespaces: Collection[str]) -> list[str]:
    return sorted(ns for ns in namespaces if name.startswith(f"{ns}-") and len(name) > len(ns) + 1)


def plan_renames(
    names: Collection[str], namespaces: Collection[str], assigned: Mapping[str, str]
) -> list[Rename]:
    """What to do with each old-style name among ``names`` (Chronos' jobs). Names that hold
    ``_`` are today's (or not Asgard's) and names no namespace fits are not Asgard's: both
    are left out."""
    plan: list[Rename] = []
    for old in sorted(n for n in names if SEPARATOR not in n):
        owners = [assigned[old]] if old in assigned else _fits(old, namespaces)
        if not owners:
            continue
        if len(owners) > 1:
            reason = f"fits namespaces {', '.join(owners)}; say whose with --assign {old}=NAMESPACE"
            plan.append(Rename(old, None, reason))
            continue
        owner = owners[0]
        if not old.startswith(f"{owner}-"):
            plan.append(Rename(old, None, f"is not a name of namespace {owner}"))
            continue
        new = f"{owner}{SEPARATOR}{old.removeprefix(f'{owner}-')}"
        if new in names:
            plan.append(Rename(old, None, f"{new} exists already"))
        else:
            plan.append(Rename(old, new))
    return plan


async def rename_old_jobs(
    chronos: Chronos,
    namespaces: Collection[str],
    *,
    assigned: Mapping[str, str] | None = None,
    apply: bool = True,
) -> list[Rename]:
    """Plan the renames of this Chronos' jobs and, with ``apply``, carry them out: the job
    is saved under its new name (schedule, counts and all) before the old one is deleted,
    so a failure half way leaves two copies, never none."""
    everything = await chronos.search("")
    plan = plan_renames({str(j.get("name", "")) for j in everything}, namespaces, assigned or {})
    if apply:
        for rename in plan:
            if rename.new is None:
                continue
            job = await chronos.job(rename.old)
            await chronos.save({**job, "name": rename.new})
            await chronos.delete(rename.old)
    return plan
