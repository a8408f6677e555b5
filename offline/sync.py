"""The sync engine: drains the outbox to the hub and brings back statuses, documents and a heartbeat.

One cycle (``sync_once``) sends batches capped by count and bytes until nothing is queued,
records each item's verdict, pulls status changes (its cursor kept in the outbox, in the same
transaction as the statuses), the catalogue and CRL bundle (by ETag), the role list, and posts
a heartbeat. A failure ends the cycle: whatever was being sent goes back to ``queued`` and the
next cycle waits an exponential backoff with full jitter, at least as long as a ``Retry-After``.
``start()`` runs cycles on a background thread; the UI hears ``SyncStatus`` events from it.

One sync at a time per data folder: each cycle runs holding the folder's ``SyncLock`` (waiting
``SyncConfig.lock_wait_s`` for it, else ``SyncBusy``; the background thread then just tries again
next interval). Holding it, the cycle first puts back to ``queued`` what a crashed sync left
``sending`` — no other live process can be sending then, so no batch is ever claimed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import random as _random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.backoff import Backoff
from offline.hub_client import HubAnswerInvalid, HubClient, HubError, HubPayloadTooLarge, HubRefused
from offline.outbox import Outbox, SubmissionState
from offline.sync_documents import write_crl_bundle
from offline.sync_lock import SyncBusy, SyncLock
from offline.sync_types import ItemOutcome, SyncState, SyncStatus
from protocol.wire import ItemResult

__all__ = ["Backoff", "DocumentSinks", "Health", "SyncBusy", "SyncConfig", "SyncEngine", "SyncLock", "SyncReport",
           "SyncState", "SyncStatus"]

log = logging.getLogger(__name__)

MAX_STATUS_PAGES = 50  # per cycle; the rest comes next cycle


@dataclass(frozen=True)
class SyncConfig:
    """How often and how much to send, and how to back off."""

    interval_s: float = 30.0
    batch_max_items: int = 200
    batch_max_bytes: int = 256_000
    backoff_base_s: float = 2.0
    backoff_max_s: float = 900.0
    lock_wait_s: float = 5.0  # how long a cycle waits for another sync of the same data folder to finish

    @classmethod
    def from_settings(cls, hub: Any) -> SyncConfig:
        """From ``Settings.hub``."""
        return cls(hub.sync_interval_s, hub.batch_max_items, hub.batch_max_bytes)


def _unknown() -> str:
    return "unknown"


def _no_ratings() -> dict[str, int]:
    return {}


def _no_checkpoint() -> dict[str, Any] | None:
    return None


@dataclass(frozen=True)
class Health:
    """What the heartbeat reports besides the queue, each asked when it is sent (they must not raise)."""

    version: str
    printer: Callable[[], str] = _unknown
    reader: Callable[[], str] = _unknown
    ratings: Callable[[], dict[str, int]] = _no_ratings
    audit_checkpoint: Callable[[], dict[str, Any] | None] = _no_checkpoint


@dataclass(frozen=True)
class DocumentSinks:
    """Where pulled documents go; a missing sink means that document is not pulled.

    A sink may raise ``ValueError`` to refuse a document: its ETag is then not kept, so it is
    fetched again next cycle. Signatures are checked before any sink sees a document.
    """

    on_catalogue: Callable[[bytes], object] | None = None  # e.g. CatalogueStore.on_catalogue
    crl_dir: Path | None = None  # [card] crl_dir, or <data_dir>/crl
    on_roles: Callable[[bytes, str], object] | None = None  # (body, signature), e.g. RoleStore.save


@dataclass
class SyncReport:
    """What one cycle did."""

    results: dict[ItemResult, int] = field(default_factory=lambda: {r: 0 for r in ItemResult})
    statuses: int = 0
    remaining_queued: int = 0
    error: HubError | None = None
    problems: list[str] = field(default_factory=list)
    next_in_s: float = 0.0
    audit_problem: str | None = None  # the hub saw this kiosk's audit chain go back or fork


class SyncEngine:
    """Moves the outbox to the hub on a background thread (or one cycle at a time with ``sync_once``)."""

    def __init__(self, *, outbox: Outbox, client: HubClient, config: SyncConfig, health: Health,
                 documents: DocumentSinks, clock: Callable[[], dt.datetime],
                 monotonic: Callable[[], float] = time.monotonic,
                 random: Callable[[], float] = _random.random, lock: SyncLock | None = None) -> None:
        """``lock`` is the data folder's sync lock; None only where this engine is the folder's one syncer (tests)."""
        self._outbox, self._client, self._config = outbox, client, config
        self._lock = lock
        self._health, self._documents = health, documents
        self._clock, self._monotonic = clock, monotonic
        self._backoff = Backoff(config.backoff_base_s, config.backoff_max_s, random)
        self._cycle_lock = threading.Lock()
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._status = SyncStatus(SyncState.OFFLINE, 0)
        self._status = SyncStatus(SyncState.OFFLINE, self._queued())
        self.not_before = 0.0  # monotonic time before which the hub is not called again (backoff)

    # --- events ----------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        """The latest status."""
        return self._status

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Hear every status change (called on the sync thread: marshal to the UI); returns an unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, state: SyncState, *, error: str | None = None, success: bool = False) -> None:
        last = self._status
        self._status = SyncStatus(state, self._queued(), self._clock() if success else last.last_success,
                                  None if success else (error or last.last_error))
        for callback in list(self._subscribers):
            try:
                callback(self._status)
            except Exception:  # a broken listener must not stop requests reaching the hub
                log.exception("sync status listener failed")

    def _queued(self) -> int:
        try:
            stats = self._outbox.stats()
        except sqlite3.Error:  # a failing disk: the UI still hears the state, with the last count known
            return self._status.queued
        return int(stats[SubmissionState.QUEUED.value] or 0) + int(stats[SubmissionState.SENDING.value] or 0)

    # --- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        """Run cycles in the background until ``stop()``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish its current call and wait for it (the hub timeout bounds the wait)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        """Stop the thread and close the engine's outbox connection (the engine owns the outbox it was given)."""
        self.stop()
        self._outbox.close()

    def poke(self) -> None:
        """Sync soon (a request was just queued); a backoff or Retry-After still holds."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.not_before - self._monotonic()
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                if self._stop.is_set() or (self._backoff.failures and self._monotonic() < self.not_before):
                    continue
            try:
                self.sync_once()
            except SyncBusy:  # `kiosk sync` or another engine is syncing this folder: our turn comes later
                log.info("another sync is running on this data folder; trying again in %.0f s", self._config.interval_s)
                self.not_before = self._monotonic() + self._config.interval_s
            except Exception:  # the thread's boundary: a bug or a disk error must not end syncing for good
                log.exception("sync cycle failed")
                self.not_before = self._monotonic() + self._backoff.failed()
                self._publish(SyncState.OFFLINE, error="error.unexpected")

    # --- one cycle -------------------------------------------------------------------------

    @contextmanager
    def exclusive(self, wait_s: float | None = None) -> Iterator[None]:
        """Hold the data folder's sync lock (re-entrant), waiting ``wait_s`` (default ``lock_wait_s``).

        Raises ``SyncBusy`` when another sync kept it that long.
        """
        lock = self._lock
        if lock is None:
            yield
            return
        if not lock.acquire(self._config.lock_wait_s if wait_s is None else wait_s):
            raise SyncBusy(lock.path)
        try:
            yield
        finally:
            lock.release()

    def sync_once(self) -> SyncReport:
        """Send what is queued, pull what the hub has for us, send a heartbeat; never raises a ``HubError``.

        Raises ``SyncBusy`` when another sync held this data folder for longer than ``lock_wait_s``.
        """
        with self._cycle_lock, self.exclusive():
            report = SyncReport()
            resumed = self._outbox.resume_in_flight()  # ours alone now: leftovers of a crashed sync
            if resumed:
                log.info("%d requests a stopped sync left in flight are queued again", resumed)
            try:
                self._push(report)
                self._pull_statuses(report)
                self._pull_documents(report)
                self._heartbeat(report)
            except HubError as exc:
                log.warning("sync stopped: %s (%s)", type(exc).__name__, exc)
                report.error = exc
                report.next_in_s = self._backoff.failed(exc.retry_after)
                self._publish(SyncState.OFFLINE, error=exc.translation_key)
            else:
                self._backoff.succeeded()
                report.next_in_s = self._config.interval_s
                self._publish(SyncState.ONLINE, success=True)
            self.not_before = self._monotonic() + report.next_in_s
            report.remaining_queued = self._status.queued
            return report

    def _push(self, report: SyncReport) -> None:
        max_items = self._config.batch_max_items
        while not self._stop.is_set():
            batch = self._outbox.claim_batch(max_items, self._config.batch_max_bytes)
            if not batch:
                return
            self._publish(SyncState.SYNCING)
            ids = [item.id for item in batch]
            try:
                outcomes = self._client.submit(batch)
            except HubPayloadTooLarge:
                self._outbox.release(ids)
                if len(batch) > 1:
                    max_items = max(1, len(batch) // 2)  # the hub's limit is lower than ours: halve and go on
                    continue
                outcomes = [ItemOutcome(ids[0], ItemResult.REJECTED, "too_large")]
            except BaseException:
                self._outbox.release(ids)
                raise
            for result, n in self._outbox.apply_results(outcomes).items():
                report.results[result] += n

    def _pull_statuses(self, report: SyncReport) -> None:
        cursor = self._outbox.meta("status_cursor")
        for _ in range(MAX_STATUS_PAGES):
            try:
                page = self._client.statuses(cursor)
            except HubRefused as exc:  # e.g. a hub restored from backup no longer knows our cursor
                log.warning("statuses refused (%s); asking from the start next time", exc)
                report.problems.append(f"statuses: {exc}")
                self._outbox.set_meta("status_cursor", "")
                return
            report.statuses += self._outbox.apply_statuses(page.statuses, page.cursor)
            if not page.more or page.cursor == cursor:
                return
            cursor = page.cursor

    def _pull_documents(self, report: SyncReport) -> None:
        """A bad or refused document keeps the one we had and is reported; the cycle goes on."""
        sinks = self._documents
        for name, wanted in (("catalogue", sinks.on_catalogue), ("crl", sinks.crl_dir), ("roles", sinks.on_roles)):
            if not wanted:
                continue
            etag_key = f"{name}_etag"
            try:
                document = self._client.document(name, self._outbox.meta(etag_key))
                if document is None:
                    continue
                if name == "catalogue" and sinks.on_catalogue:
                    sinks.on_catalogue(document.body)
                elif name == "crl" and sinks.crl_dir:
                    write_crl_bundle(document.body, sinks.crl_dir)
                elif name == "roles" and sinks.on_roles:
                    sinks.on_roles(document.body, document.signature)
            except HubRefused as exc:
                if exc.status == 404:  # the hub has not published this document yet
                    continue
                log.warning("%s not updated: %s", name, exc)
                report.problems.append(f"{name}: {exc}")
                continue
            except (HubAnswerInvalid, ValueError) as exc:
                log.warning("%s not updated: %s", name, exc)
                report.problems.append(f"{name}: {exc}")
                continue
            if document.etag:
                self._outbox.set_meta(etag_key, document.etag)

    def _heartbeat(self, report: SyncReport) -> None:
        health = self._health
        beat: dict[str, Any] = {
            "version": health.version,
            "queue": self._outbox.stats(),
            "printer": health.printer()[:200],
            "reader": health.reader()[:200],
            "ratings": health.ratings(),
        }
        checkpoint = health.audit_checkpoint()
        if checkpoint is not None:
            beat["audit_checkpoint"] = checkpoint
        try:
            report.audit_problem = self._client.heartbeat(beat)
        except (HubRefused, HubAnswerInvalid) as exc:  # the requests went through: that is what counts
            log.warning("heartbeat not taken: %s", exc)
            report.problems.append(f"heartbeat: {exc}")
            return
        if report.audit_problem:
            # Entries were cut from this kiosk's audit log or rewritten since the hub last saw it (a
            # restored backup, or someone with the disk): the technician must look at this kiosk.
            log.error("the hub reports this kiosk's audit log %s: tell the technician",
                      report.audit_problem.replace("_", " "))
