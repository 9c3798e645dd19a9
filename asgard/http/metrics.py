"""Prometheus metrics: the HTTP service's requests by route, method and status, and
their latency; then the fleet's state (``fleet_metrics.py``), read at scrape time.

Each application gets its own registry, so tests (and several apps in one process)
do not share counters. The routes, their traffic and the accounts' names say something
of the tenants, so ``ASGARD_METRICS_TOKEN`` can reserve them to the scraper that holds
that token.
"""

from __future__ import annotations

import hmac

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import SecretStr

from asgard.errors import Unauthenticated
from asgard.http.fleet_metrics import render_fleet
from asgard.services.fleet_state import FleetSnapshot

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "asgard_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "asgard_http_request_duration_seconds",
            "Time to answer an HTTP request (to the first byte for streams), by route template",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def render(self, fleet: FleetSnapshot | None = None) -> bytes:
        """The requests' metrics, then the fleet's (``fleet``: read for this scrape)."""
        own = generate_latest(self.registry)
        return own if fleet is None else own + render_fleet(fleet)


def require_metrics_token(authorization: str | None, expected: SecretStr | None) -> None:
    """Nothing when no token is configured or ``authorization`` is ``Bearer <token>``;
    ``Unauthenticated`` otherwise. Compared in constant time, as keys are."""
    if expected is None or not expected.get_secret_value():
        return
    scheme, _, given = (authorization or "").partition(" ")
    wanted = expected.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), wanted):
        raise Unauthenticated("/metrics requires 'Authorization: Bearer <metrics token>'")
