"""Schemathesis hooks for the fuzzing test: what counts as Asgard failing, and what not to
ask a fuzzer to do. Loaded by the ``schemathesis`` process (``SCHEMATHESIS_HOOKS``)."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

EXPLAINED_BY_A_CLUSTER = (502, 504)


def _describe_lambdas_without_crashing() -> None:
    """Hypothesis names a strategy's filter by parsing the source of the module its lambda
    is in (schemathesis' coverage module, thousands of lines); in a threaded process,
    CPython 3.11 may raise a spurious SystemError from that parse (python/cpython#106905),
    which stopped the whole run (once in two on CI). The name is only a repr: an unknown
    one is given instead, as hypothesis does for any source it cannot read."""
    from hypothesis.internal import filtering, lambda_sources

    described = lambda_sources.lambda_description

    def guarded(f: Any) -> str:
        try:
            return str(described(f))  # type: ignore[no-untyped-call]
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources.lambda_description = guarded
    filtering.lambda_description = guarded  # type: ignore[attr-defined]


_describe_lambdas_without_crashing()


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


UNKNOWN_ID = 2**31 - 1
"""An id no row has: a write aimed at it is a 404."""


def _protected() -> dict[str, str]:
    """The fuzzer's own account and user (set by the test), by path parameter."""
    given = {
        "account_id": os.environ.get("ASGARD_FUZZ_ACCOUNT_ID"),
        "user_id": os.environ.get("ASGARD_FUZZ_USER_ID"),
    }
    return {name: value for name, value in given.items() if value}


@schemathesis.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """The fuzzer does not delete or demote its own account or user: ids are integers in
    the document, so it can name them, and every case after such a write would be a 403
    that tests nothing. It writes to any other id, made or made up."""
    operation = getattr(ctx, "operation", None)
    method = operation.method.upper() if operation is not None else "GET"
    if method == "GET" or not path_parameters:
        return path_parameters
    for name, value in _protected().items():
        if str(path_parameters.get(name)) == value:
            path_parameters[name] = UNKNOWN_ID
    return path_parameters


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """The same guard for the stateful phase, whose ids come from links (``GET /users/me``
    gives the fuzzer's own id), not from generation."""
    if case.method.upper() != "GET" and case.path_parameters:
        map_path_parameters(case, case.path_parameters)
