"""The login challenge: the hub's nonce when it answers in time, none otherwise — and never a long wait."""

from __future__ import annotations

import threading
import time

from kiosk.presence import LoginChallenges
from tests.fixtures.clock import FakeClock


def _challenges(fetch, clock: FakeClock, grace_s: float = 0.5) -> LoginChallenges:  # type: ignore[no-untyped-def]
    return LoginChallenges(lambda: "KSK-0001", clock.wall, fetch, grace_s=grace_s)


def test_the_hubs_nonce_goes_into_the_challenge(clock: FakeClock) -> None:
    """GIVEN a hub that answers WHEN the card went in and the PIN follows THEN the challenge carries its nonce,
    the kiosk id and the time; each login's session id and random bytes are new."""
    nonces = iter(["n-1", "n-2"])
    challenges = _challenges(lambda: next(nonces), clock)
    try:
        challenges.prepare()
        first = challenges.challenge()
        challenges.prepare()
        second = challenges.challenge()
    finally:
        challenges.close()
    assert (first.hub_nonce, second.hub_nonce) == ("n-1", "n-2")
    assert first.kiosk_id == "KSK-0001" and first.issued_at == clock.wall().replace(microsecond=0)
    assert first.session_id != second.session_id and first.random != second.random
    assert challenges.challenge().hub_nonce is None  # not prepared again: a nonce is used once


def test_a_hub_that_fails_or_is_slow_gives_no_nonce_and_no_long_wait(clock: FakeClock) -> None:
    """GIVEN a hub that refuses, and one that hangs WHEN the PIN is typed THEN the challenge has no nonce, after
    at most the grace (not the network timeout)."""

    def refuses() -> str:
        raise ConnectionError("no link")

    failing = _challenges(refuses, clock)
    failing.prepare()
    assert failing.challenge().hub_nonce is None
    failing.close()

    release = threading.Event()
    slow = _challenges(lambda: release.wait(10) and "late", clock, grace_s=0.2)
    slow.prepare()
    started = time.monotonic()
    assert slow.challenge().hub_nonce is None
    assert time.monotonic() - started < 1.0
    release.set()
    slow.close()


def test_without_a_hub_the_challenge_is_made_at_once(clock: FakeClock) -> None:
    """GIVEN a kiosk with no hub to ask WHEN a card logs in THEN the challenge comes without a nonce."""
    alone = LoginChallenges(lambda: "KSK-0001", clock.wall)
    alone.prepare()
    assert alone.challenge().hub_nonce is None
    alone.close()
