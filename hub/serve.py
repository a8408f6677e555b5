"""Serving the hub: one process, or several workers sharing one listening socket (PostgreSQL).

``kiosk hub serve`` binds the socket itself (so ``--port 0`` can print its URL), then runs uvicorn
in this process or, with ``--workers N``, under uvicorn's supervisor. Each worker builds its own
application from ``KIOSK_HUB_SERVE`` (the database URL, the key files and the limits, as JSON), so
nothing but plain text crosses into the workers.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from hub.http import Limits
from hub.keys import KeyFiles

ENV_SERVE = "KIOSK_HUB_SERVE"
_LOG_FIELDS = ("name", "levelname", "message")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config`` dictionary for the hub and uvicorn: plain text or JSON lines on stderr."""
    formatter: dict[str, Any] = ({"()": JsonLogFormatter} if log_format == "json"
                                 else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    handler = {"class": "logging.StreamHandler", "formatter": "hub", "stream": "ext://sys.stderr"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"hub": formatter}, "handlers": {"stderr": handler},
        "loggers": {name: {"handlers": ["stderr"], "level": "INFO", "propagate": False}
                    for name in ("hub", "uvicorn", "uvicorn.error")}
                   | {"uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }


def app_from_environment() -> Any:
    """The application of one worker, from ``KIOSK_HUB_SERVE`` (uvicorn calls this in each process)."""
    from hub.app import create_app
    from hub.keys import load_keys
    from hub.store import HubDatabase

    plan = json.loads(os.environ[ENV_SERVE])
    keys = load_keys(KeyFiles(Path(plan["seal_key"]), Path(plan["sign_key"])))
    store = HubDatabase(plan["db"], upgrade=False, pool_size=plan["pool_size"])
    if plan.get("sms_gateway"):
        from hub.notifier import Notifier

        Notifier(store, keys, plan["sms_gateway"], plan.get("public_url")).start()
    presence = None
    if plan.get("trust_anchors"):
        from hub.presence import verifier_for
        from protocol.certificates import load_trust_anchors

        presence = verifier_for(keys, load_trust_anchors(Path(plan["trust_anchors"])), store.clock,
                                number_field=plan.get("personal_number_field") or "serialNumber")
    return create_app(store, keys, Limits(**plan["limits"]), public_url=plan.get("public_url"),
                      sms=bool(plan.get("sms_gateway")), presence=presence)


def uvicorn_config(app: Any, limits: Limits, *, log_format: str = "text", workers: int = 1) -> Any:
    """uvicorn's settings for the hub: its connection limit and keep-alive, our logging."""
    import uvicorn

    return uvicorn.Config(
        app, factory=isinstance(app, str), workers=workers, lifespan="off", access_log=False,
        limit_concurrency=limits.max_connections, timeout_keep_alive=int(limits.keep_alive_s),
        log_config=log_config(log_format), timeout_graceful_shutdown=10,
    )


def run(sock: socket.socket, db_url: str, keys: KeyFiles, limits: Limits, *, workers: int = 1,
        log_format: str = "text", pool_size: int = 8, public_url: str | None = None,
        sms_gateway: str | None = None, trust_anchors: str | None = None,
        personal_number_field: str = "serialNumber") -> None:
    """Serve on ``sock`` until interrupted, with ``workers`` processes (1: this one); with ``sms_gateway``
    every process also sends the SMS due (their leases keep each to one sender)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    plan = {"db": db_url, "seal_key": str(keys.seal), "sign_key": str(keys.sign), "pool_size": pool_size,
            "limits": dataclasses.asdict(limits), "public_url": public_url, "sms_gateway": sms_gateway,
            "trust_anchors": trust_anchors, "personal_number_field": personal_number_field}
    os.environ[ENV_SERVE] = json.dumps(plan)
    if workers == 1:
        uvicorn.Server(uvicorn_config(app_from_environment(), limits, log_format=log_format)).run(sockets=[sock])
        return
    # Latency histograms from every worker, summed at /metrics (prometheus-client's multiprocess mode).
    with tempfile.TemporaryDirectory(prefix="kiosk-hub-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        config = uvicorn_config("hub.serve:app_from_environment", limits, log_format=log_format, workers=workers)
        Multiprocess(config, sockets=[sock]).run()
