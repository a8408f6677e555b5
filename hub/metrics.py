"""``GET /metrics`` for Prometheus: what the hub holds (read from the database at each scrape, so every
worker tells the same story) and how fast it answers (per process, summed across workers in
prometheus-client's multiprocess mode, which ``kiosk hub serve --workers N`` turns on).

Unsigned and not for the internet: the TLS proxy refuses ``/metrics`` (deploy/hub/), Prometheus
scrapes the hub's loopback port.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.schema import duplicates, heartbeat_latest, kiosks, rejections, submissions
from hub.store import HubDatabase

LATENCY = Histogram("kiosk_hub_request_seconds", "Time to answer a request, by route and status",
                    ["route", "status"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
VERDICTS = Counter("kiosk_hub_verdicts", "Batch items answered, by verdict (since this process started)",
                   ["result"])


class StoredFigures(Collector):
    """Figures read from the database at scrape time: the same whichever worker answers."""

    def __init__(self, store: HubDatabase) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """One scrape: submissions by state, duplicates, rejections by reason, heartbeat age per kiosk."""
        now = self.store.clock()
        s, h, k = submissions.c, heartbeat_latest.c, kiosks.c
        with self.store.read() as db:
            by_state = db.execute(select(s.state, func.count()).group_by(s.state)).all()
            resent = db.execute(select(func.coalesce(func.sum(duplicates.c.count), 0))).scalar_one()
            refused = db.execute(select(rejections.c.reason, rejections.c.count)).all()
            beats = db.execute(select(k.id, k.name, h.received_at)
                               .select_from(kiosks.outerjoin(heartbeat_latest, h.kiosk_id == k.id))
                               .where(k.revoked == 0)).all()
        stored = GaugeMetricFamily("kiosk_hub_submissions", "Requests the hub holds, by state", labels=["state"])
        for state, count in by_state:
            stored.add_metric([state], count)
        yield stored
        yield CounterMetricFamily("kiosk_hub_duplicates", "Re-sends answered 'duplicate' (all time)", value=resent)
        rejected = CounterMetricFamily("kiosk_hub_rejections", "Batch items refused, by reason (all time)",
                                       labels=["reason"])
        for reason, count in refused:
            rejected.add_metric([reason], count)
        yield rejected
        age = GaugeMetricFamily("kiosk_hub_heartbeat_age_seconds", "Seconds since each kiosk's last heartbeat",
                                labels=["kiosk_id", "name"])
        never = GaugeMetricFamily("kiosk_hub_kiosks_silent", "Enrolled kiosks that never sent a heartbeat")
        silent = 0
        for kiosk_id, name, received_at in beats:
            if received_at is None:
                silent += 1
                continue
            age.add_metric([kiosk_id, name or ""], (now - dt.datetime.fromisoformat(received_at)).total_seconds())
        never.add_metric([], silent)
        yield age
        yield never


def count_verdicts(results: list[dict[str, Any]]) -> None:
    """Count a batch's verdicts."""
    for result in results:
        VERDICTS.labels(result["result"]).inc()


def _registry(store: HubDatabase) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(LATENCY)
        registry.register(VERDICTS)
    registry.register(StoredFigures(store))
    return registry


class _Timed:
    """Pure ASGI middleware: how long each answer took, by route template and status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(route, str(status[0])).observe(time.perf_counter() - started)


def install(app: FastAPI, store: HubDatabase) -> None:
    """Time every request and serve ``GET /metrics``."""
    registry = _registry(store)
    app.add_middleware(_Timed)

    @app.get("/metrics", tags=["hub"], summary="Prometheus figures, unsigned (loopback only: the proxy refuses it)",
             response_class=Response)
    def metrics() -> Response:
        """Figures in Prometheus' text format."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
