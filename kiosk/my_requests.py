""""My requests": this citizen's earlier requests, from every centre when the hub answers, from this kiosk otherwise.

Online the kiosk shows the hub the session's proof of presence (the card's signed login challenge,
with the hub's fresh nonce in it); the hub finds the card holder's requests from every centre with a
lookup key only it holds. Offline this kiosk finds its own by ``protocol.presence.holder_key`` — a
hash of the card's certificate, nothing to try personal numbers against. The hub's answer is merged
with what this kiosk still holds unsent, so a request made an hour ago on a kiosk offline since shows.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from offline.outbox import Outbox
from protocol.presence import PresenceToken, holder_key

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
    centre: str = ""  # where it was made, when the hub says (another centre's requests too)

    @property
    def state_key(self) -> str:
        """Translation key of the state in plain words."""
        return STATE_KEYS.get(self.state, "requests.state.unknown")


@dataclass(frozen=True)
class MyRequestsResult:
    """The list to show, newest first, and where it came from."""

    source: Source
    requests: tuple[RequestSummary, ...]


LocalSource = Callable[[str], list[RequestSummary]]
"""Given a holder key, the card holder's requests made at this kiosk."""

RemoteSource = Callable[[PresenceToken], list[RequestSummary]]
"""Given the session's proof of presence, the holder's requests from every centre (raises HubUnreachable or OSError)."""


class MyRequests:
    """Looks up a citizen's requests through injected sources."""

    def __init__(
        self, *, kiosk_id: str, local: LocalSource, remote: RemoteSource | None = None, limit: int = 20
    ) -> None:
        self._kiosk_id = kiosk_id
        self._local = local
        self._remote = remote
        self._limit = limit

    def lookup(self, presence: PresenceToken) -> MyRequestsResult:
        """The citizen's requests: hub first (with this kiosk's unsent ones added), else this kiosk's."""
        local = self._local(holder_key(self._kiosk_id, presence.certificate))
        if self._remote is not None and presence.challenge.hub_nonce:  # the hub answers fresh logins only
            try:
                remote = self._remote(presence)
            except (HubUnreachable, OSError) as exc:  # requests' errors are OSErrors too
                log.info("my requests: hub not reachable (%s), showing this kiosk's", type(exc).__name__)
            else:
                known = {r.receipt_no for r in remote}
                merged = [*remote, *(r for r in local if r.receipt_no not in known)]
                return MyRequestsResult(Source.HUB, self._newest_first(merged))
        return MyRequestsResult(Source.KIOSK, self._newest_first(local))

    def _newest_first(self, requests: list[RequestSummary]) -> tuple[RequestSummary, ...]:
        return tuple(sorted(requests, key=lambda r: r.created_at, reverse=True)[: self._limit])


def outbox_source(outbox: Outbox, limit: int = 50) -> LocalSource:
    """The local source: this kiosk's outbox, with what the hub last said about each (test requests left out)."""

    def local(key: str) -> list[RequestSummary]:
        return [
            RequestSummary(s.receipt_no, s.service, s.created_at, (s.hub_state or s.state).value, s.centre or "")
            for s in outbox.requests_for(key, limit=limit)
            if not s.synthetic
        ]

    return local


CITIZEN_SECRET_FILE = "citizen-hash.key"  # the per-kiosk key of the keyed hashes "my requests" once used


def retire_citizen_secret(data_dir: Path) -> None:
    """Delete the old per-kiosk "my requests" key: with it, a stolen disk's hashes gave up personal numbers
    in hours; without it the hashes left in old rows are noise (outbox migration m005 clears them too)."""
    old = data_dir / CITIZEN_SECRET_FILE
    if old.exists():
        with open(old, "r+b") as fh:  # overwrite before unlinking: the bytes do not linger in the file's blocks
            size = fh.seek(0, 2)
            fh.seek(0)
            fh.write(b"\0" * size)
            fh.flush()
            os.fsync(fh.fileno())
        old.unlink()
        log.info("removed the old \"my requests\" key %s", old.name)
