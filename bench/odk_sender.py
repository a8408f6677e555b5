"""The peer for ``bench_sync``: a sender that works the way ODK Collect / OpenRosa clients send.

One HTTP POST per submission, uncompressed, on a new connection each time (``Connection: close``,
a fresh ``requests.Session`` per submission), waiting for each answer before the next. To compare
only the sending pattern, it speaks our protocol (a signed one-item batch to ``/v1/submissions``)
and reads and writes the same outbox as ``SyncEngine``. Real OpenRosa clients also send a HEAD
request before each submission and wrap it in multipart/form-data XML: both are left out, which
flatters the peer.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import requests

from offline.hub_client import HubIdentity
from offline.outbox import ItemOutcome, Outbox
from protocol.wire import API_PREFIX, ItemResult, canonical_json, sign_request


class OneRequestPerPostSender:
    """Drains an outbox one signed, uncompressed POST at a time, each on a new connection."""

    def __init__(self, outbox: Outbox, base_url: str, identity: HubIdentity, *,
                 clock: Callable[[], dt.datetime], timeout_s: float = 30.0) -> None:
        self._outbox, self._base, self._identity = outbox, base_url.rstrip("/"), identity
        self._clock, self._timeout = clock, timeout_s

    def drain(self) -> int:
        """Send until nothing is queued; the number delivered. Any failure raises (a bench wants to know)."""
        delivered = 0
        path = API_PREFIX + "/submissions"
        while batch := self._outbox.claim_batch(1, 10**9):
            item = batch[0]
            body = canonical_json({"items": [{
                "id": item.id, "receipt_no": item.receipt_no, "service": item.service,
                "created_at": item.created_at, "synthetic": item.synthetic,
                "sealed": base64.b64encode(item.sealed).decode("ascii")}]})
            headers = {**sign_request(self._identity.device_key, self._identity.kiosk_id, "POST", path, body,
                                      self._clock()),
                       "Content-Type": "application/json", "Connection": "close"}
            with requests.Session() as session:
                answer = session.post(self._base + path, data=body, headers=headers, timeout=self._timeout)
            answer.raise_for_status()
            result = ItemResult(answer.json()["results"][0]["result"])
            self._outbox.apply_results([ItemOutcome(item.id, result)])
            delivered += 1
        return delivered
