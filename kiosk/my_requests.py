""""My requests": this citizen's earlier requests, from the hub when it answers, from this kiosk otherwise.

Requests are found by the keyed hash of the personal number (``citizen_key``), never by the
number itself. The hub's answer is merged with what this kiosk still holds unsent, so a request
made an hour ago on a kiosk that has been offline since still shows.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from offline.outbox import Outbox
from protocol.sealing import citizen_key

log = logging.getLogger(__name__)

STATE_KEYS = {
    "queued": "requests.state.queued",
    "sending": "requests.state.queued",  # in flight is still "waiting to be sent" to the villager
    "delivered": "requests.state.delivered",
    "received": "requests.state.received",  # the hub's back office has it
    "in_progress": "requests.state.in_progress",
    "closed": "requests.state.closed",
    "rejected": "requests.state.rejected",
}


class HubUnreachable(Exception):
    """The remote source cannot answer now (no link, timeout, hub error)."""


class Source(enum.Enum):
    """Where the list came from, said on screen."""

    HUB = "hub"
    KIOSK = "kiosk"


@dataclass(frozen=True)
class RequestSummary:
    """One earlier request, with nothing personal in it."""

    receipt_no: str
    service: str  # catalogue service id
    created_at: dt.datetime
    state: str  # the outbox's state, or the hub's (received / in_progress / closed / rejected) once known

    @property
    def state_key(self) -> str:
        """Translation key of the state in plain words."""
        return STATE_KEYS.get(self.state, "requests.state.unknown")


@dataclass(frozen=True)
class MyRequestsResult:
    """The list to show, newest first, and where it came from."""

    source: Source
    requests: tuple[RequestSummary, ...]


RequestSource = Callable[[str], list[RequestSummary]]
"""Given a citizen key, that citizen's requests (a remote one raises HubUnreachable or OSError)."""


class MyRequests:
    """Looks up a citizen's requests through injected sources."""

    def __init__(
        self, *, secret: bytes, local: RequestSource, remote: RequestSource | None = None, limit: int = 20
    ) -> None:
        self._secret = secret
        self._local = local
        self._remote = remote
        self._limit = limit

    def lookup(self, personal_number: str) -> MyRequestsResult:
        """The citizen's requests: hub first (with this kiosk's unsent ones added), else this kiosk's."""
        key = citizen_key(self._secret, personal_number)
        local = self._local(key)
        if self._remote is not None:
            try:
                remote = self._remote(key)
            except (HubUnreachable, OSError) as exc:  # requests' errors are OSErrors too
                log.info("my requests: hub not reachable (%s), showing this kiosk's", type(exc).__name__)
            else:
                known = {r.receipt_no for r in remote}
                merged = [*remote, *(r for r in local if r.receipt_no not in known)]
                return MyRequestsResult(Source.HUB, self._newest_first(merged))
        return MyRequestsResult(Source.KIOSK, self._newest_first(local))

    def _newest_first(self, requests: list[RequestSummary]) -> tuple[RequestSummary, ...]:
        return tuple(sorted(requests, key=lambda r: r.created_at, reverse=True)[: self._limit])


def outbox_source(outbox: Outbox, limit: int = 50) -> RequestSource:
    """The local source: this kiosk's outbox, with what the hub last said about each (test requests left out)."""

    def local(key: str) -> list[RequestSummary]:
        return [
            RequestSummary(s.receipt_no, s.service, s.created_at, (s.hub_state or s.state).value)
            for s in outbox.requests_for(key, limit=limit)
            if not s.synthetic
        ]

    return local
