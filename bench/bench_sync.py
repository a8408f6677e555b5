"""Sync throughput and wire cost: ``SyncEngine`` against a one-request-per-POST sender, in one run.

The reference hub runs as a child process (``kiosk hub serve``, so it does not share this
process's GIL) on loopback; a kiosk enrolls with it over HTTP. Requests are sealed to the hub's
real key with a realistic payload (a residence-certificate form, ~480 bytes sealed) and queued in
the kiosk's outbox (one transaction for the set-up, since the queueing is not what is measured).

1. **Loopback drain**: 10,000 queued requests, one ``SyncEngine.sync_once()`` (batches of 200,
   gzip, one kept-alive connection); the peer drains 1,000 on the same hub. Goal >= 1,000 req/s.
2. **Rural link**: through the TCP impairment proxy at 250 ms each way (500 ms round trip) and
   150 kbit/s each way, 200 requests: the time until the last batch is answered and the bytes that
   crossed the proxy by then (both directions) per request — goal <= 1.5 KB — against the peer
   (``bench/odk_sender.py``: one uncompressed signed POST per request, a new connection each, as
   ODK Collect / OpenRosa send). Goal: ours >= 5x faster. The proxy accepts locally, so neither side
   pays a TCP (or TLS) handshake round trip: a real link would cost the peer one or more per request.

Figures are medians of the runs; ours and the peer alternate so a noisy neighbour hurts both.

    python bench/bench_sync.py [--runs 3] [--loopback 10000] [--link 200] [--peer-runs 1]

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

import requests  # noqa: E402  (after the path fix)

from bench.odk_sender import OneRequestPerPostSender  # noqa: E402
from offline.enrollment import Enrollment, enroll  # noqa: E402
from offline.hub_client import HubClient  # noqa: E402
from offline.outbox import Outbox  # noqa: E402
from offline.sync import DocumentSinks, Health, SyncConfig, SyncEngine  # noqa: E402
from protocol.sealing import PayloadSealer  # noqa: E402
from tests.fixtures.hub_server import RunningHub, start_hub  # noqa: E402
from tests.fixtures.impair_proxy import Impairment, ImpairmentProxy  # noqa: E402

GOAL_LOOPBACK_PER_S = 1000.0
GOAL_BYTES_PER_REQUEST = 1500.0
GOAL_SPEEDUP = 5.0
LINK = Impairment(latency_s=0.25, bandwidth_bps=150_000)


def utc() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


class BenchKiosk:
    """An enrolled kiosk's data directory: fresh outboxes filled with sealed requests."""

    def __init__(self, hub: RunningHub, data: Path) -> None:
        self.data = data
        self.enrollment: Enrollment = enroll(requests.Session(), hub.url, hub.enroll_code(), data,
                                             name="bench", clock=utc)
        self.sealer = PayloadSealer(self.enrollment.seal_key())

    def outbox(self, count: int) -> Outbox:
        """A new outbox file holding ``count`` queued requests, each sealed on its own."""
        box = Outbox(self.data / f"outbox-{uuid.uuid4().hex[:8]}.sqlite", "KSK-0001", utc)
        with box.db.atomic():  # one commit for the set-up (each enqueue nests as a savepoint)
            for i in range(count):
                number = f"010240{i % 100_000:05d}"
                box.enqueue(service="residence_certificate", holder=f"holder-{i % 100_000}",
                            synthetic=True, sealed=self.sealer.seal({
                                "schema": 1, "kiosk_id": "KSK-0001", "service": "residence_certificate",
                                "language": "ka", "submitted_at": utc().isoformat(),
                                "citizen": {"personal_number": number, "given_name": "ნინო", "surname": "ბერიძე"},
                                "answers": {"address": "სოფელი სნო, ყაზბეგის მუნიციპალიტეტი", "purpose": "employer",
                                            "phone": f"555{i % 1_000_000:06d}", "consent": "yes"},
                                "synthetic": True}))
        return box

    def engine(self, box: Outbox, base_url: str, session: requests.Session) -> SyncEngine:
        """A ``SyncEngine`` as the kiosk builds it (default batch caps), no documents to pull."""
        client = HubClient(session, base_url, self.enrollment.identity(self.data), clock=utc, timeout_s=60)
        return SyncEngine(outbox=box, client=client, config=SyncConfig(), health=Health("bench"),
                          documents=DocumentSinks(), clock=utc)

    def peer(self, box: Outbox, base_url: str) -> OneRequestPerPostSender:
        """The one-request-per-POST sender on the same outbox."""
        return OneRequestPerPostSender(box, base_url, self.enrollment.identity(self.data), clock=utc, timeout_s=60)


def _last_batch_answer(session: requests.Session, mark: Callable[[], None]) -> None:
    """Call ``mark`` whenever a batch's answer has arrived (the drain's end is the last one)."""
    def hook(resp: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        if resp.request.method == "POST" and resp.request.path_url.endswith("/submissions"):
            mark()
    session.hooks["response"].append(hook)


def ours_drain(kiosk: BenchKiosk, box: Outbox, base_url: str,
               proxy: ImpairmentProxy | None = None) -> dict[str, float]:
    """Drain ``box`` with one ``sync_once``: seconds (and bytes) until the last batch was answered."""
    count = int(box.stats()["queued"] or 0)
    session = requests.Session()
    drained: dict[str, float] = {}

    def mark() -> None:
        drained["s"] = time.perf_counter() - started
        if proxy is not None:
            drained["bytes"] = proxy.bytes_up + proxy.bytes_down

    _last_batch_answer(session, mark)
    engine = kiosk.engine(box, base_url, session)
    started = time.perf_counter()
    report = engine.sync_once()
    cycle_s = time.perf_counter() - started
    assert report.error is None and report.remaining_queued == 0, report
    figures = {"requests": count, "drain_s": drained["s"], "cycle_s": cycle_s, "per_s": count / drained["s"]}
    if proxy is not None:
        figures["bytes_per_request"] = drained["bytes"] / count
        figures["cycle_bytes_per_request"] = (proxy.bytes_up + proxy.bytes_down) / count
    return figures


def peer_drain(kiosk: BenchKiosk, box: Outbox, base_url: str,
               proxy: ImpairmentProxy | None = None) -> dict[str, float]:
    """Drain ``box`` one POST per request."""
    started = time.perf_counter()
    count = kiosk.peer(box, base_url).drain()
    elapsed = time.perf_counter() - started
    assert box.stats()["queued"] == 0
    figures = {"requests": count, "drain_s": elapsed, "per_s": count / elapsed}
    if proxy is not None:
        figures["bytes_per_request"] = (proxy.bytes_up + proxy.bytes_down) / count
    return figures


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the median over runs (rounded)."""
    return {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    """Run both benches and print JSON; exit 1 if a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of ours (default 3)")
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of the peer on the slow link (default 1: "
                        "200 requests take it about two minutes)")
    parser.add_argument("--loopback", type=int, default=10_000, help="requests drained on loopback (default 10000)")
    parser.add_argument("--loopback-peer", type=int, default=1_000, help="requests the peer drains on loopback")
    parser.add_argument("--link", type=int, default=200, help="requests drained over the slow link (default 200)")
    args = parser.parse_args(argv)

    build = REPO / "build"
    build.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-", dir=build))
    hub = start_hub(work / "hub", in_thread=False)
    try:
        kiosk = BenchKiosk(hub, work / "kiosk")
        port = urllib.parse.urlsplit(hub.url).port
        assert port is not None
        loop_ours, loop_peer, link_ours, link_peer = [], [], [], []
        for run in range(max(args.runs, args.peer_runs)):
            if run < args.runs:
                loop_ours.append(ours_drain(kiosk, kiosk.outbox(args.loopback), hub.url))
                loop_peer.append(peer_drain(kiosk, kiosk.outbox(args.loopback_peer), hub.url))
                box = kiosk.outbox(args.link)
                with ImpairmentProxy(("127.0.0.1", port), LINK) as proxy:
                    link_ours.append(ours_drain(kiosk, box, proxy.url, proxy))
            if run < args.peer_runs:
                box = kiosk.outbox(args.link)
                with ImpairmentProxy(("127.0.0.1", port), LINK) as proxy:
                    link_peer.append(peer_drain(kiosk, box, proxy.url, proxy))
        hub_stats = hub.stats()
    finally:
        hub.stop()
        shutil.rmtree(work)

    loopback, loopback_peer = median_of(loop_ours), median_of(loop_peer)
    link, link_peer_m = median_of(link_ours), median_of(link_peer)
    speedup = round(link_peer_m["drain_s"] / link["drain_s"], 2)
    report = {
        "bench": "sync",
        "loopback": {"ours_sync_engine": loopback, "peer_one_post_per_request": loopback_peer,
                     "ratio_per_s_ours_over_peer": round(loopback["per_s"] / loopback_peer["per_s"], 2),
                     "goal_per_s": GOAL_LOOPBACK_PER_S, "goal_met": loopback["per_s"] >= GOAL_LOOPBACK_PER_S},
        "slow_link": {"impairment": {"one_way_latency_s": LINK.latency_s, "bandwidth_bps": LINK.bandwidth_bps},
                      "ours_sync_engine": link, "peer_one_post_per_request": link_peer_m,
                      "speedup_drain_ours_vs_peer": speedup,
                      "ratio_bytes_per_request_peer_over_ours": round(
                          link_peer_m["bytes_per_request"] / link["bytes_per_request"], 2),
                      "goal_bytes_per_request": GOAL_BYTES_PER_REQUEST, "goal_speedup": GOAL_SPEEDUP,
                      "goal_met": link["bytes_per_request"] <= GOAL_BYTES_PER_REQUEST and speedup >= GOAL_SPEEDUP},
        "runs": {"ours": args.runs, "peer_slow_link": args.peer_runs},
        "hub_after": {"submissions": hub_stats["submissions"], "duplicates": hub_stats["duplicates"]},
    }
    print(json.dumps(report, indent=2))
    return 0 if report["loopback"]["goal_met"] and report["slow_link"]["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
