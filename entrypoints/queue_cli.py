"""Technician commands for the hub link and the queue: ``enroll``, ``queue``, ``sync``, ``dev load``.

Each is safe to kill at any moment (``kill -9`` included): enrolment writes its files atomically
and resumes with the same device key, every queue change is one SQLite transaction, and what a
killed ``sync`` left ``sending`` is sent again and answered ``duplicate`` by the hub.
``sync`` holds the data folder's sync lock for its whole run, so two never overlap (nor one and the
app's background sync): a second one waits ``--wait`` seconds, then says so and exits 3.
Exit codes: 0 done; 1 the hub could not be reached or refused, or requests are still queued;
2 this kiosk cannot do it (configuration, not enrolled, queue damaged); 3 (``sync``) another sync
of this data folder is already running.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import signal
import sqlite3
import sys
import threading
from typing import Any

import requests

from assets import ASSETS_DIR
from entrypoints.sync_wiring import build_sync_engine
from kiosk.audit import open_audit_log
from kiosk.clock import LocalTime, utc_now
from kiosk.config import Settings
from kiosk.i18n import Translator
from offline.enrollment import EnrollmentError, check_hub_url, enroll
from offline.hub_client import HubError
from offline.outbox import Outbox, OutboxCorrupted, SubmissionState
from offline.outbox_integrity import clear_marker
from offline.sync_lock import SyncBusy
from protocol.wire import ItemResult

CANNOT = 2
BUSY = 3  # `sync`: another sync of this data folder is running
SYNC_WAIT_S = 5.0


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``enroll``, ``queue stats|list|clear-corruption``, ``sync [--once]`` and ``dev load``."""
    p = subparsers.add_parser("enroll", parents=[common], help="enrol this kiosk with the central hub",
                              description="Make this kiosk's device key, spend a one-time code from the hub "
                              "(kiosk hub enroll-code) and pin the hub's keys in <data_dir>/enrollment.json.")
    p.add_argument("--hub", required=True, metavar="URL", help="the hub's address, e.g. https://hub.example.ge")
    p.add_argument("--code", required=True, help="the one-time enrolment code")
    p.add_argument("--force", action="store_true", help="replace an existing enrolment")
    p.add_argument("--allow-http", action="store_true", help="allow plain http to a machine other than this one")
    p.set_defaults(handler=run)

    # The middle level takes no --config: argparse would let its default overwrite the leaf's value.
    queue = subparsers.add_parser("queue", help="what is waiting to be sent, and what was",
                                  description="Counts and lists of the requests in the outbox (no personal data).")
    qsub = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    stats = qsub.add_parser("stats", parents=[common], help="counts per state and the oldest queued age")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    listing = qsub.add_parser("list", parents=[common],
                              help="requests, newest first (receipt numbers, no personal data)")
    listing.add_argument("--state", choices=[s.value for s in SubmissionState], help="only this state")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    retry = qsub.add_parser("retry", parents=[common], help="send rejected requests again (after the cause is fixed)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", metavar="ID", help="a rejected request's id (repeatable)")
    which.add_argument("--all-rejected", action="store_true", help="every rejected request")
    qsub.add_parser("clear-corruption", parents=[common], help="after a damaged queue was set aside and saved: "
                    "let the kiosk start a fresh queue")
    queue.set_defaults(handler=run)

    sync = subparsers.add_parser("sync", parents=[common], help="send the queue to the hub",
                                 description="Send queued requests, then pull statuses, catalogue, CRLs and roles "
                                 "and send a heartbeat. One sync at a time per data folder (the app's background "
                                 "sync included). Exit 0 when nothing is left queued, 1 (with the reason) when the "
                                 "hub could not be reached or requests are still queued, 2 when this kiosk cannot "
                                 "sync (not enrolled, queue damaged), 3 when a sync is already running for this "
                                 "data folder and did not finish within --wait.")
    sync.add_argument("--once", action="store_true", help="one pass, then exit (default: keep syncing until stopped)")
    sync.add_argument("--json", action="store_true", help="machine-readable report of the pass")
    sync.add_argument("--wait", type=float, default=SYNC_WAIT_S, metavar="SECONDS",
                      help=f"how long to wait for a sync already running to finish (default {SYNC_WAIT_S:g}); "
                      "then exit 3")
    sync.set_defaults(handler=run)

    dev = subparsers.add_parser("dev", help="developer and load-test helpers")
    dsub = dev.add_subparsers(dest="dev_command", required=True, metavar="ACTION")
    load = dsub.add_parser("load", parents=[common], help="queue synthetic requests through the real submit path",
                           description="Queue N requests from a synthetic demo citizen, marked synthetic, through "
                           "the same Submitter the screens use (sealed, numbered, durable); nothing is printed.")
    load.add_argument("--count", type=int, required=True, metavar="N")
    load.add_argument("--service", default=None, metavar="ID", help="service id (default: the first in the catalogue)")
    dev.set_defaults(handler=run)
    from entrypoints.dev_cli import add_virtual_card

    add_virtual_card(dsub, common)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Dispatch to the chosen command; a damaged queue or a missing enrolment exits 2 with the reason."""
    try:
        if args.command == "enroll":
            return _enroll(settings, args)
        if args.command == "queue":
            return _queue(settings, args)
        if args.command == "sync":
            return _sync(settings, args)
        return _dev_load(settings, args)
    except (OutboxCorrupted, EnrollmentError) as exc:
        _fail(exc)
        return CANNOT


def _say(key: str) -> str:
    """A message in English for the technician's terminal."""
    return Translator(ASSETS_DIR / "locale", ("en",), "en")(key)


def _fail(exc: Exception) -> None:
    print(f"kiosk: {_say(exc.translation_key)} ({type(exc).__name__}: {exc})", file=sys.stderr)  # type: ignore[attr-defined]


def _enroll(settings: Settings, args: argparse.Namespace) -> int:
    try:
        url = check_hub_url(args.hub, args.allow_http)
    except ValueError as exc:
        print(f"kiosk: --hub: {exc}", file=sys.stderr)
        return CANNOT
    try:
        done = enroll(requests.Session(), url, args.code, settings.kiosk.data_dir, name=settings.kiosk.kiosk_id,
                      clock=utc_now, force=args.force, timeout_s=settings.hub.timeout_s)
    except HubError as exc:
        _fail(exc)
        return 1
    print(f"enrolled with {done.hub_url} as {done.kiosk_id}")
    return 0


def _open_outbox(settings: Settings) -> Outbox:
    return Outbox(settings.kiosk.data_dir / "outbox.sqlite", settings.kiosk.kiosk_id, utc_now,
                  zone=settings.kiosk.zone)


def _queue(settings: Settings, args: argparse.Namespace) -> int:
    if args.queue_command == "clear-corruption":
        moved = clear_marker(settings.kiosk.data_dir / "outbox.sqlite")
        print(f"the damaged queue stays in {moved}; a fresh queue starts now" if moved else "nothing to clear")
        return 0
    box = _open_outbox(settings)
    try:
        if args.queue_command == "retry":
            n = box.requeue_rejected(None if args.all_rejected else args.id)
            print(f"{n} rejected requests queued again")
            return 0
        if args.queue_command == "stats":
            stats = box.stats()
            print(json.dumps(stats) if args.json else "\n".join(f"{k:>20}: {v}" for k, v in stats.items()))
            return 0
        state = SubmissionState(args.state) if args.state else None
        rows = [{"id": s.id, "receipt_no": s.receipt_no, "service": s.service, "state": s.state.value,
                 "created_at": s.created_at.isoformat(), "reason": s.reason,
                 "hub_state": s.hub_state.value if s.hub_state else None, "synthetic": s.synthetic}
                for s in box.list(state, limit=args.limit)]
    finally:
        box.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            extra = f"  {r['reason']}" if r["reason"] else ""
            print(f"{r['receipt_no']}  {r['state']:<9}  {r['service']:<24}  {r['created_at']}{extra}")
    return 0


def _audit_head(settings: Settings) -> tuple[Any, Any]:
    """The audit log opened read-only for the heartbeat's checkpoint, and how to close it (none before the app ran)."""
    path = settings.kiosk.data_dir / "audit.sqlite"
    if not path.exists():
        return (lambda: None), (lambda: None)
    try:
        log = open_audit_log(settings.kiosk.data_dir, utc_now, read_only=True)
    except sqlite3.Error as exc:  # the sync goes on without a checkpoint; the technician reads why
        print(f"warning: audit log not opened ({type(exc).__name__}: {exc})", file=sys.stderr)
        return (lambda: None), (lambda: None)

    def checkpoint() -> dict[str, Any] | None:
        try:
            head = log.checkpoint()
        except Exception as exc:  # noqa: BLE001 — a heartbeat must go out whatever the audit file does
            print(f"warning: audit checkpoint not read ({type(exc).__name__}: {exc})", file=sys.stderr)
            return None
        return {"seq": head.seq, "hash": head.hash}

    return checkpoint, log.close


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    checkpoint, close_audit = _audit_head(settings)
    try:
        engine = build_sync_engine(settings, audit_checkpoint=checkpoint)
        try:
            with engine.exclusive(args.wait):
                if not args.once:
                    return _sync_until_stopped(engine, LocalTime(utc_now, settings.kiosk.zone))
                report = engine.sync_once()
        finally:
            engine.close()
    except SyncBusy as exc:
        print(f"kiosk: {exc}; this one stops without syncing (exit {BUSY})", file=sys.stderr)
        return BUSY
    finally:
        close_audit()
    summary = {
        "accepted": report.results[ItemResult.ACCEPTED], "duplicate": report.results[ItemResult.DUPLICATE],
        "rejected": report.results[ItemResult.REJECTED], "statuses": report.statuses,
        "remaining_queued": report.remaining_queued, "problems": report.problems,
        "error": report.error.translation_key if report.error else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("problems", "error")))
        for problem in report.problems:
            print(f"warning: {problem}", file=sys.stderr)
    if report.error is not None:
        _fail(report.error)
        return 1
    return 0 if report.remaining_queued == 0 else 1


def _sync_until_stopped(engine: Any, local: LocalTime) -> int:
    """Run the engine's thread in the foreground until SIGTERM or Ctrl-C."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    engine.subscribe(lambda s: print(f"{local.now().isoformat(timespec='seconds')} {s.state.value} "
                                     f"queued={s.queued} error={s.last_error}", flush=True))
    engine.start()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    return 0


def _dev_load(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_services
    from hardware.demo_pki import DEMO_CITIZEN
    from kiosk.identity import Citizen
    from protocol.catalogue import ServiceKind

    # No card and no printing: the card parts are the simulated ones whatever [card] says, so this
    # works on a bare install; requests seal to the enrolled hub, else [hub] public_key, else the demo hub.
    no_devices = settings.simulated(settings.kiosk.data_dir)
    quiet = dataclasses.replace(no_devices, printer=dataclasses.replace(no_devices.printer, uri=""))
    services = build_services(quiet)
    try:
        catalogue = services.catalogue()
        by_id = {s.id: s for s in catalogue.services if s.kind is ServiceKind.FORM}
        service = by_id.get(args.service) if args.service else next(iter(by_id.values()))
        if service is None:
            print(f"kiosk: --service: {args.service!r} is not a service with a form; use one of "
                  f"{', '.join(by_id)}", file=sys.stderr)
            return CANNOT
        citizen = Citizen(**DEMO_CITIZEN)
        answers = synthetic_answers(service, citizen, services.local_time.today())
        assert services.submitter is not None
        for _ in range(args.count):
            services.submitter.submit(citizen, service, answers, synthetic=True)
        print(f"queued {args.count} synthetic requests for {service.id}")
    finally:
        services.close()
    return 0


def synthetic_answers(service: Any, citizen: Any, today: dt.date) -> dict[str, str]:
    """Answers that pass the service's form validation, as a villager would give them."""
    from kiosk.forms import sample_answer, validate

    answers = {}
    for field in service.fields:
        value = sample_answer(field, citizen, today)
        problem = validate(field, value, today)
        if problem is not None:
            raise ValueError(f"no synthetic answer for field {field.id!r} ({problem})")
        answers[field.id] = value
    return answers
