"""Schemathesis hooks for the fuzzing test: what counts as Asgard failing, and what not to
ask a fuzzer to do. Loaded by the ``schemathesis`` process (``SCHEMATHESIS_HOOKS``)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

EXPLAINED_BY_A_CLUSTER = (502, 504)


@schemathesis.check
def only_documented_server_errors(ctx: Any, response: Any, case: Any) -> None:
    """A 5xx is a failure, except 501 (a kind of cluster that cannot) and a 502 or 504 whose
    every error names the cluster that failed or did not answer."""
    status = response.status_code
    if status < 500 or status == 501:
        return
    if status in EXPLAINED_BY_A_CLUSTER:
        try:
            errors = json.loads(response.content)["errors"]
        except (ValueError, KeyError, TypeError):
            raise AssertionError(f"{status} without the errors envelope") from None
        if errors and all(e.get("cluster") for e in errors):
            return
        raise AssertionError(f"{status} naming no cluster: {errors}")
    raise AssertionError(f"{status}: {response.content[:300]!r}")


@schemathesis.hook
def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """Streams that follow a log never end: the fuzzer reads what is there and moves on."""
    if query and "follow" in query:
        query["follow"] = False
    return query
