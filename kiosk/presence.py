"""The challenge each citizen login has the card sign, with a hub nonce when the hub answers in time.

The nonce is asked for in the background as soon as the card is in: while the villager types the PIN
the hub has seconds to answer. At the PIN the challenge takes the nonce if it came — waiting at most
``grace_s`` (half a second) for one still on its way — and goes without it otherwise (offline: the
request's proof then rests on the card's signature and the kiosk's clock). A slow hub never holds the
screen longer than that.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from protocol.presence import Challenge

log = logging.getLogger(__name__)

NonceFetcher = Callable[[], str]
"""Asks the hub for a presence nonce (``POST /v1/presence-nonce``); raises when it cannot."""


class LoginChallenges:
    """Fresh challenges for card logins, each with the hub's nonce when one arrived in time."""

    def __init__(self, kiosk_id: Callable[[], str], clock: Callable[[], dt.datetime],
                 fetch_nonce: NonceFetcher | None = None, *, grace_s: float = 0.5) -> None:
        self._kiosk_id = kiosk_id
        self._grace_s = grace_s
        self._clock = clock
        self._fetch = fetch_nonce
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="hub-nonce") if fetch_nonce else None
        self._pending: Future[str] | None = None

    def prepare(self) -> None:
        """A card went in: start asking the hub for a nonce (a previous unused one is dropped)."""
        if self._pool is None or self._fetch is None:
            return
        self._pending = self._pool.submit(self._fetch)

    def challenge(self) -> Challenge:
        """The challenge to sign now: with the hub's nonce if it answers within the grace, else without."""
        pending, self._pending = self._pending, None
        nonce = None
        if pending is not None:
            try:
                nonce = pending.result(timeout=self._grace_s)
            except FutureTimeout:
                pending.cancel()
                log.info("no hub nonce for this login (the hub has not answered yet)")
            except Exception as exc:  # no link, hub down, a refusal: the login goes on without it
                log.info("no hub nonce for this login (%s)", type(exc).__name__)
        return Challenge.fresh(self._kiosk_id(), self._clock(), nonce)

    def close(self) -> None:
        """Stop the background asker (a call in flight ends on its own timeout)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
