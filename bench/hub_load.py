"""The load generator of ``bench/bench_hub.py``: simulated kiosks making the sync engine's real signed calls.

Each kiosk has its own Ed25519 device key (derived from its number, so the bench can insert the
matching public keys into the hub's database and every load process can rebuild the private ones).
A kiosk's cycle is what ``offline.sync.SyncEngine.sync_once`` sends, in that order, over one
connection opened for the cycle and closed after it:

    POST /v1/submissions   gzip, a batch of 1-20 sealed items (only in some cycles, see ``Traffic``)
    GET  /v1/statuses?since=CURSOR
    GET  /v1/catalogue     If-None-Match: the published ETag (answer: 304)
    GET  /v1/crl           If-None-Match: the published ETag (answer: 304)
    GET  /v1/roles         If-None-Match: the last ETag (the hub re-issues the list: 200)
    POST /v1/heartbeat     {"version", "queue", "printer", "reader", "ratings", "audit_checkpoint"}

Open loop: kiosk ``i`` of ``K`` starts its cycles at ``start + (i + 0.5) / K * interval + n * interval``
whatever the hub's state, so the offered load is ``K * calls_per_cycle / interval``. A call's latency
is measured from when it was due: the first call of a cycle from the cycle's scheduled time (so a
late generator or a slow connect counts against the hub, coordinated-omission corrected), each
next call from the moment the previous answer arrived (when a kiosk sends it). The time from the
send is recorded too. Requests are signed just before they are sent (``protocol.wire.sign_request``:
fresh date and nonce), written and read with a minimal HTTP/1.1 client on asyncio streams so the
generator costs little CPU beside the hub.

One load process runs ``serve(conn)``: it receives a ``StepPlan``, builds its slice of kiosks
(``i % processes == index``), answers ``"ready"``, receives the common start time, runs, and sends
back a ``StepResult`` (raw latencies of the measured window and counters).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gzip
import hashlib
import json
import random
import secrets
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from nacl.signing import SigningKey

from protocol import __version__
from protocol.wire import canonical_json, sign_request

CALLS = ("submissions", "statuses", "catalogue", "crl", "roles", "heartbeat")
CALL_TIMEOUT_S = 15.0  # HubClient's default timeout
_NO_BODY = (204, 304)


def kiosk_id(index: int) -> str:
    """The id of bench kiosk ``index`` (``k-`` and 16 hex digits, as the hub hands out)."""
    return f"k-{index:016x}"


def kiosk_key(index: int) -> SigningKey:
    """The device key of bench kiosk ``index``, the same in every process."""
    return SigningKey(hashlib.sha256(b"bench-hub kiosk %d" % index).digest())


@dataclass(frozen=True)
class Traffic:
    """A kiosk's cycle: every ``interval_s``, five calls, and a batch of ``batch_min``-``batch_max`` items
    in the fraction of cycles that makes ``items_per_day`` requests a day."""

    interval_s: float = 30.0
    items_per_day: float = 50.0
    batch_min: int = 1
    batch_max: int = 20

    @property
    def batch_probability(self) -> float:
        """The chance that a cycle sends a batch."""
        cycles_per_day = 86_400 / self.interval_s
        return min(1.0, self.items_per_day / ((self.batch_min + self.batch_max) / 2 * cycles_per_day))

    @property
    def calls_per_cycle(self) -> float:
        """Calls a cycle makes on average."""
        return len(CALLS) - 1 + self.batch_probability

    def describe(self) -> dict[str, Any]:
        """The model, for the JSON report."""
        return {"interval_s": self.interval_s, "items_per_kiosk_per_day": self.items_per_day,
                "batch_items": [self.batch_min, self.batch_max],
                "batch_probability_per_cycle": round(self.batch_probability, 6),
                "calls_per_cycle": round(self.calls_per_cycle, 5),
                "calls_per_kiosk_per_day": round(self.calls_per_cycle * 86_400 / self.interval_s, 1),
                "every_cycle": list(CALLS[1:]), "some_cycles": CALLS[0]}


@dataclass(frozen=True)
class StepPlan:
    """What one load process runs: its slice of ``kiosks`` kiosks, for warm-up + measured window."""

    host: str
    port: int
    kiosks: int
    index: int
    processes: int
    warmup_s: float
    duration_s: float
    drain_s: float
    traffic: Traffic
    etags: dict[str, str]
    sealed: tuple[str, ...]  # base64 sealed payloads, reused by the items (sealing is not what is measured)
    seed: int = 0


@dataclass
class StepResult:
    """One process's figures: per measured call its kind, latency from due and from send (ms), and counters."""

    kinds: array = field(default_factory=lambda: array("B"))
    from_due_ms: array = field(default_factory=lambda: array("d"))
    from_send_ms: array = field(default_factory=lambda: array("d"))
    start_lag_ms: array = field(default_factory=lambda: array("d"))  # cycle's first send - its scheduled time
    offered_calls: int = 0  # calls the cycles scheduled in the window make
    answered_in_window: int = 0  # good answers that arrived inside the window (any cycle)
    measured_cycles: int = 0
    batches: int = 0
    items_accepted: int = 0
    not_modified: int = 0
    errors: Counter = field(default_factory=Counter)  # "call:word" for measured cycles
    background_errors: Counter = field(default_factory=Counter)  # cycles of the warm-up and the tail (not cancelled)
    cpu_s: float = 0.0  # this process's CPU time inside the window


class Kiosk:
    """One simulated kiosk: its key and what its sync engine remembers between cycles."""

    __slots__ = ("cursor", "id", "index", "key", "rng", "roles_etag")

    def __init__(self, index: int, seed: int) -> None:
        self.index = index
        self.id = kiosk_id(index)
        self.key = kiosk_key(index)
        self.cursor = ""
        self.roles_etag = ""
        self.rng = random.Random(seed * 1_000_003 + index)


@dataclass(frozen=True)
class Call:
    """One request of a cycle and how its answer is judged (``check`` returns an error word or None)."""

    kind: int
    method: str
    target: str
    body: bytes
    headers: dict[str, str]
    check: Callable[[int, dict[str, str], bytes], str | None]


def _utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class KioskCalls:
    """The calls of one cycle for one kiosk, built lazily (each signed only when it is about to be sent)."""

    def __init__(self, plan: StepPlan, result: StepResult) -> None:
        self.plan = plan
        self.result = result

    def cycle(self, kiosk: Kiosk, batch: int) -> Iterator[Call]:
        """The calls in the sync engine's order; ``batch`` items first when non-zero."""
        if batch:
            yield self._submissions(kiosk, batch)
        yield Call(1, "GET", "/v1/statuses?since=" + kiosk.cursor, b"", {}, lambda s, h, b: self._statuses(kiosk, s, b))
        for kind, name in ((2, "catalogue"), (3, "crl")):
            yield Call(kind, "GET", f"/v1/{name}", b"", {"If-None-Match": self.plan.etags[name]}, self._document)
        yield Call(4, "GET", "/v1/roles", b"", {"If-None-Match": kiosk.roles_etag} if kiosk.roles_etag else {},
                   lambda s, h, b: self._roles(kiosk, s, h))
        yield Call(5, "POST", "/v1/heartbeat", self._beat(kiosk, batch), {"Content-Type": "application/json"},
                   self._heartbeat)

    def _submissions(self, kiosk: Kiosk, count: int) -> Call:
        now = _utc().isoformat()
        items = [{"id": str(uuid.uuid4()), "receipt_no": f"B{kiosk.index:06d}-{secrets.token_hex(3)}",
                  "service": "civil_registry.birth_certificate", "created_at": now,
                  "synthetic": False,
                  "sealed": kiosk.rng.choice(self.plan.sealed)} for _ in range(count)]
        body = gzip.compress(canonical_json({"items": items}), compresslevel=6, mtime=0)

        def check(status: int, _headers: dict[str, str], answer: bytes) -> str | None:
            if status != 200:
                return f"status_{status}"
            results = (_json(answer) or {}).get("results")
            if not isinstance(results, list) or len(results) != count:
                return "bad_batch_answer"
            accepted = sum(1 for r in results if isinstance(r, dict) and r.get("result") == "accepted")
            self.result.items_accepted += accepted
            return None if accepted == count else "items_not_accepted"

        self.result.batches += 1
        return Call(0, "POST", "/v1/submissions", body, {"Content-Type": "application/json", "Content-Encoding": "gzip"},
                    check)

    def _statuses(self, kiosk: Kiosk, status: int, answer: bytes) -> str | None:
        if status != 200:
            return f"status_{status}"
        page = _json(answer)
        if not isinstance(page, dict) or not isinstance(page.get("cursor"), str) or not isinstance(page.get("statuses"), list):
            return "bad_statuses_answer"
        kiosk.cursor = page["cursor"]
        return None

    def _document(self, status: int, headers: dict[str, str], _answer: bytes) -> str | None:
        if status == 304:
            self.result.not_modified += 1
            return None
        return None if status == 200 and headers.get("x-hub-signature") else f"status_{status}"

    def _roles(self, kiosk: Kiosk, status: int, headers: dict[str, str]) -> str | None:
        if status not in (200, 304) or not headers.get("x-hub-signature"):
            return f"status_{status}"
        kiosk.roles_etag = headers.get("etag", kiosk.roles_etag)
        return None

    @staticmethod
    def _heartbeat(status: int, _headers: dict[str, str], answer: bytes) -> str | None:
        if status != 200:
            return f"status_{status}"
        value = _json(answer)
        if not isinstance(value, dict) or "audit_problem" not in value:
            return "bad_heartbeat_answer"
        return None if value["audit_problem"] is None else f"audit_{value['audit_problem']}"

    @staticmethod
    def _beat(kiosk: Kiosk, sent: int) -> bytes:
        seq = time.time_ns() // 1_000_000  # only grows, so the hub never sees the audit chain go back
        return canonical_json({
            "version": __version__,
            "queue": {"queued": 0, "sending": 0, "delivered": sent, "closed": 0, "rejected": 0, "cancelled": 0,
                      "total": sent, "oldest_queued_age_s": None, "reprints_pending": 0, "synthetic": 0},
            "printer": "ok", "reader": "ok", "ratings": {},
            "audit_checkpoint": {"seq": seq, "hash": hashlib.sha256(f"{kiosk.id}:{seq}".encode()).hexdigest()},
        })


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer: status, headers (lower-case names) and body (Content-Length or chunked)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if status in _NO_BODY or status < 200:
        return status, headers, b""
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size + 2))
        await reader.readuntil(b"\r\n")
        return status, headers, b"".join(c[:-2] for c in chunks)
    return status, headers, await reader.read()


class LoadRunner:
    """Runs one step in one process: schedules the cycles, sends them, records the measured ones."""

    def __init__(self, plan: StepPlan, kiosks: dict[int, Kiosk]) -> None:
        self.plan = plan
        self.result = StepResult()
        self.calls = KioskCalls(plan, self.result)
        self.mine = [kiosks.setdefault(i, Kiosk(i, plan.seed)) for i in range(plan.index, plan.kiosks, plan.processes)]
        self.host_header = f"Host: {plan.host}:{plan.port}\r\n".encode("ascii")
        self.tasks: set[asyncio.Task[None]] = set()
        self.pending_measured = 0
        self.scheduling_done = False
        self.all_measured_done = asyncio.Event()
        self.window = (0.0, 0.0)
        self.t0 = 0.0
        self.cpu_marks = [0.0, 0.0]

    def request(self, kiosk: Kiosk, call: Call) -> bytes:
        """The request's bytes, signed now (fresh date and nonce)."""
        signed = sign_request(kiosk.key, kiosk.id, call.method, call.target, call.body, _utc())
        lines = "".join(f"{k}: {v}\r\n" for k, v in {**call.headers, **signed}.items())
        length = f"Content-Length: {len(call.body)}\r\n" if call.body or call.method == "POST" else ""
        return (f"{call.method} {call.target} HTTP/1.1\r\n".encode("ascii") + self.host_header
                + (lines + length + "\r\n").encode("latin-1") + call.body)

    async def cycle(self, kiosk: Kiosk, due: float, measured: bool, batch: int) -> None:
        """One sync cycle over one connection; stops at the first failed call, as the sync engine does."""
        loop, r = asyncio.get_running_loop(), self.result
        calls, kind, error, writer = self.calls.cycle(kiosk, batch), (0 if batch else 1), None, None
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(self.plan.host, self.plan.port)
            for number, call in enumerate(calls):
                kind, sent = call.kind, loop.time()
                if measured and number == 0:
                    r.start_lag_ms.append((sent - due) * 1000)
                writer.write(self.request(kiosk, call))
                async with asyncio.timeout(CALL_TIMEOUT_S):
                    status, headers, body = await read_answer(reader)
                done = loop.time()
                error = call.check(status, headers, body)
                if error is None and self.window[0] <= done < self.window[1]:
                    r.answered_in_window += 1
                if measured and error is None:
                    r.kinds.append(kind)
                    r.from_due_ms.append((done - due) * 1000)
                    r.from_send_ms.append((done - sent) * 1000)
                if error is not None:
                    break
                due = done
        except TimeoutError:
            error = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            error = f"{type(exc).__name__}"
        except asyncio.CancelledError:
            error = "unfinished"
            raise
        finally:
            if writer is not None:
                writer.close()
            if error is not None and (measured or error != "unfinished"):
                (r.errors if measured else r.background_errors)[f"{CALLS[kind]}:{error}"] += 1
            if measured:
                self.pending_measured -= 1
                if self.pending_measured == 0 and self.scheduling_done:
                    self.all_measured_done.set()

    async def schedule(self) -> None:
        """Start each kiosk's cycles at their times until the window ends and its cycles are answered."""
        loop, plan, traffic = asyncio.get_running_loop(), self.plan, self.plan.traffic
        phases = [(k, (k.index + 0.5) / plan.kiosks * traffic.interval_s) for k in self.mine]
        for n in range(1_000_000):
            for kiosk, phase in phases:
                due = self.t0 + phase + n * traffic.interval_s
                if due >= self.window[1]:
                    self.scheduling_done = True  # from here on: background load only, until the measured ones end
                    if self.pending_measured == 0:
                        self.all_measured_done.set()
                if due >= self.window[1] + plan.drain_s or self.all_measured_done.is_set():
                    return
                if (delay := due - loop.time()) > 0:
                    await asyncio.sleep(delay)
                batch = kiosk.rng.randint(traffic.batch_min, traffic.batch_max) \
                    if kiosk.rng.random() < traffic.batch_probability else 0
                measured = self.window[0] <= due < self.window[1]
                if measured:
                    self.pending_measured += 1
                    r = self.result
                    r.measured_cycles += 1
                    r.offered_calls += len(CALLS) - 1 + (1 if batch else 0)
                task = asyncio.create_task(self.cycle(kiosk, due, measured, batch))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    def _cpu_mark(self, slot: int) -> None:
        self.cpu_marks[slot] = time.process_time()

    async def run(self, start_at: float) -> StepResult:
        """Run the step whose first cycles are due at wall-clock ``start_at``."""
        loop, plan = asyncio.get_running_loop(), self.plan
        self.t0 = loop.time() + (start_at - time.time())
        self.window = (self.t0 + plan.warmup_s, self.t0 + plan.warmup_s + plan.duration_s)
        loop.call_at(self.window[0], self._cpu_mark, 0)
        loop.call_at(self.window[1], self._cpu_mark, 1)
        await self.schedule()
        try:
            async with asyncio.timeout(max(0.0, self.window[1] + plan.drain_s - loop.time())):
                await self.all_measured_done.wait()
        except TimeoutError:
            pass
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.result.cpu_s = max(0.0, self.cpu_marks[1] - self.cpu_marks[0])
        return self.result


def serve(conn: Connection) -> None:
    """A load process: run each plan received (``None`` ends it); kiosks persist between steps."""
    kiosks: dict[int, Kiosk] = {}
    while (plan := conn.recv()) is not None:
        runner = LoadRunner(plan, kiosks)  # the keys are made before the start
        conn.send("ready")
        start_at = conn.recv()
        conn.send(asyncio.run(runner.run(start_at)))


def sealed_pool(seal_public_key: bytes, count: int = 32) -> tuple[str, ...]:
    """Sealed payloads (a birth-certificate form, ~400 bytes) for the items, base64 as sent."""
    from protocol.sealing import PayloadSealer

    sealer = PayloadSealer(seal_public_key)
    return tuple(base64.b64encode(sealer.seal({
        "schema": 1, "service": "civil_registry.birth_certificate", "language": "ka",
        "citizen": {"personal_number": f"0102405{i:04d}", "given_name": "ნინო", "surname": "ბერიძე"},
        "answers": {"child": "ანა ბერიძე", "purpose": "school", "phone": f"555{i:06d}", "consent": "yes"},
    })).decode("ascii") for i in range(count))
