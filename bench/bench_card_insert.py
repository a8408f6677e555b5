"""Card-insert-to-event latency through pcscd: PcscCardReader against its peers, in one run.

A private ``pcscd --foreground`` with vsmartcard's vpcd driver is started, and a virtual card
is inserted and removed N times. Each insertion is watched at once by three listeners, each
with its own PC/SC context:

* ours      ``PcscCardReader`` (monitor thread, set differences, event callback),
* peer      pyscard's own ``CardMonitor`` / ``CardObserver``,
* floor     a bare ``SCardGetStatusChange`` loop that does nothing but note the time.

Latency = time of the listener hearing the card - time the card connected to vpcd. Most of it
is pcscd polling vpcd (every 0.4 s), the same for all three, so the figures that judge our code
are the ratios and the paired overhead against the floor. Goal: median <= 250 ms.

Run as root (pcscd owns /run/pcscd), with no other pcscd running, from the repository root:

    python -m bench.bench_card_insert [--inserts 30]

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Imported after the path fix above.
from smartcard import scard
from smartcard.CardMonitoring import CardMonitor, CardObserver

from hardware.pcsc_reader import PcscCardReader
from kiosk.ports import CardEvent, CardEventKind
from tests.fixtures.vpcd_card import (
    PcscdProcess,
    VirtualCard,
    find_pcscd,
    find_vpcd_driver,
    free_port_pair,
    running_pcscd_pids,
    vpcd_reader_name,
)

GOAL_MEDIAN_MS = 250.0
READER = vpcd_reader_name(0)


class Arrivals:
    """Per listener, the moment it heard of each insertion (index = insertion number)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.removed = threading.Event()
        self._lock = threading.Lock()

    def inserted(self) -> None:
        """Note an insertion now."""
        now = time.perf_counter()
        with self._lock:
            self.times.append(now)

    def count(self) -> int:
        """Insertions heard so far."""
        with self._lock:
            return len(self.times)


class OurListener:
    """PcscCardReader's events."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.reader = PcscCardReader()

    def __call__(self, event: CardEvent) -> None:
        if event.reader != READER:
            return
        if event.kind is CardEventKind.CARD_INSERTED:
            self.arrivals.inserted()
        elif event.kind is CardEventKind.CARD_REMOVED:
            self.arrivals.removed.set()

    def start(self) -> None:
        self.reader.start(self)

    def stop(self) -> None:
        self.reader.stop()


class PyscardObserver(CardObserver):
    """pyscard's CardMonitor, the way its documentation shows it."""

    def __init__(self, arrivals: Arrivals) -> None:
        super().__init__()
        self.arrivals = arrivals
        self.monitor: CardMonitor | None = None

    def update(self, observable, handlers) -> None:
        added, removed = handlers
        if any(str(card.reader) == READER for card in added):
            self.arrivals.inserted()
        if any(str(card.reader) == READER for card in removed):
            self.arrivals.removed.set()

    def start(self) -> None:
        self.monitor = CardMonitor()
        self.monitor.addObserver(self)

    def stop(self) -> None:
        if self.monitor is None:
            return
        self.monitor.deleteObserver(self)
        # The singleton's thread may outlive its last observer: ask it to end at its next
        # wake-up (run() wakes it), else it prints tracebacks once pcscd is gone.
        if self.monitor.rmthread is not None:
            self.monitor.rmthread.stop()

    def join(self) -> None:
        if self.monitor is not None and self.monitor.rmthread is not None:
            self.monitor.rmthread.join(2)


class BareLoop:
    """The floor: one SCardGetStatusChange loop on one reader, nothing else."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.stopping = threading.Event()
        _, self.context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        self.thread = threading.Thread(target=self._run, name="bare-loop", daemon=True)

    def _run(self) -> None:
        state = scard.SCARD_STATE_UNAWARE
        while not self.stopping.is_set():
            code, result = scard.SCardGetStatusChange(self.context, 1000, [(READER, state)])
            if code != scard.SCARD_S_SUCCESS:
                continue
            event = result[0][1]
            if event & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_PRESENT and state:
                self.arrivals.inserted()
            if event & scard.SCARD_STATE_EMPTY and state & scard.SCARD_STATE_PRESENT:
                self.arrivals.removed.set()
            state = event & ~scard.SCARD_STATE_CHANGED

    def start(self) -> None:
        self.thread.start()
        time.sleep(0.1)  # its first (UNAWARE) answer must not count as an insertion

    def stop(self) -> None:
        self.stopping.set()
        scard.SCardCancel(self.context)
        self.thread.join(2)
        scard.SCardReleaseContext(self.context)


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1) + 0.5)], 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }


def _wait(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _measure(card: VirtualCard, listeners: dict[str, Arrivals], inserts: int) -> list[float]:
    """Insert and remove ``inserts`` times; the insertion moments, one per round."""
    sent: list[float] = []
    for i in range(inserts):
        # A random pause spreads insertions over pcscd's polling cycle, as villagers would.
        time.sleep(random.uniform(0.0, 0.4))
        sent.append(time.perf_counter())
        card.insert()
        if not all(_wait(lambda a=a, i=i: a.count() > i, 3.0) for a in listeners.values()):
            raise RuntimeError(f"insertion {i} was not heard by every listener")
        for arrivals in listeners.values():
            arrivals.removed.clear()
        card.remove()
        if not all(a.removed.wait(3.0) for a in listeners.values()):
            raise RuntimeError(f"removal {i} was not heard by every listener")
    return sent


def run(inserts: int) -> dict[str, object]:
    """Start pcscd, measure, stop pcscd; the report as a dict."""
    others = running_pcscd_pids()
    if others:
        raise SystemExit(f"another pcscd is running (pid {others}); stop it or run this elsewhere")
    pcscd, driver = find_pcscd(), find_vpcd_driver()
    if pcscd is None or driver is None:
        raise SystemExit("needs the Debian packages pcscd and vsmartcard-vpcd")
    with tempfile.TemporaryDirectory(prefix="bench-pcscd-") as workdir:
        daemon = PcscdProcess(Path(workdir), pcscd=pcscd, vpcd_driver=driver, port=free_port_pair())
        daemon.start()
        card = VirtualCard(daemon.port)
        arrivals = {"ours": Arrivals(), "pyscard_cardmonitor": Arrivals(), "bare_getstatuschange": Arrivals()}
        watchers = [OurListener(arrivals["ours"]), PyscardObserver(arrivals["pyscard_cardmonitor"]),
                    BareLoop(arrivals["bare_getstatuschange"])]
        try:
            for watcher in watchers:
                watcher.start()
            time.sleep(0.3)
            sent = _measure(card, arrivals, inserts)
        finally:
            for watcher in watchers:
                watcher.stop()
            card.insert()  # wakes pyscard's monitor thread so it sees its stop flag before pcscd goes
            watchers[1].join()
            card.remove()
            daemon.stop()
    latency = {name: [(t - s) * 1000 for t, s in zip(a.times, sent, strict=True)] for name, a in arrivals.items()}
    return _report(latency, inserts)


def _report(latency: dict[str, list[float]], inserts: int) -> dict[str, object]:
    ours, peer, floor = latency["ours"], latency["pyscard_cardmonitor"], latency["bare_getstatuschange"]
    summary = {name: _summary(values) for name, values in latency.items()}
    paired = [o - f for o, f in zip(ours, floor, strict=True)]  # same insertion, both listeners
    return {
        "benchmark": "card_insert_to_event",
        "path": "virtual card -> vpcd -> pcscd -> PC/SC client",
        "inserts": inserts,
        "goal_median_ms": GOAL_MEDIAN_MS,
        "ours": summary["ours"],
        "peers": {"pyscard_cardmonitor": summary["pyscard_cardmonitor"],
                  "bare_getstatuschange": summary["bare_getstatuschange"]},
        "ratio_median_ours_vs_pyscard_cardmonitor": round(statistics.median(ours) / statistics.median(peer), 3),
        "ratio_median_ours_vs_bare": round(statistics.median(ours) / statistics.median(floor), 3),
        "paired_overhead_vs_bare_median_ms": round(statistics.median(paired), 3),
        "meets_goal": statistics.median(ours) <= GOAL_MEDIAN_MS,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--inserts N`` (at least 20)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inserts", type=int, default=30, help="insertions to time (>= 20)")
    args = parser.parse_args(argv)
    if args.inserts < 20:
        parser.error("--inserts must be at least 20")
    print(json.dumps(run(args.inserts), indent=2))


if __name__ == "__main__":
    main()
