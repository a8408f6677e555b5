"""The demo PKI follows the injected clock: a demo data folder made today still works years later."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

from entrypoints.bootstrap import build_services
from hardware.demo_pki import load_or_make_demo_pki
from kiosk.config import load_settings
from tests.fixtures.clock import WORLD_NOW, FakeClock
from tests.fixtures.journey_run import submit_one

YEAR = dt.timedelta(days=365)


def test_a_cached_pki_is_reused_while_it_is_valid(tmp_path: Path) -> None:
    """GIVEN a demo PKI made at WORLD_NOW WHEN loaded a year later THEN the same certificates come back."""
    made = load_or_make_demo_pki(tmp_path, WORLD_NOW)
    again = load_or_make_demo_pki(tmp_path, WORLD_NOW + YEAR)
    assert again.citizen_auth.cert == made.citizen_auth.cert
    assert made.issued_at == WORLD_NOW.replace(microsecond=0)


def test_an_expired_pki_is_renewed_and_the_renewal_logged(tmp_path: Path, caplog) -> None:
    """GIVEN a demo PKI made three years ago (its citizen certificates last 2.5) WHEN loaded now
    THEN a new one valid now is made, and the log says why."""
    old = load_or_make_demo_pki(tmp_path, WORLD_NOW - 3 * YEAR)
    with caplog.at_level(logging.WARNING, logger="hardware.demo_pki"):
        new = load_or_make_demo_pki(tmp_path, WORLD_NOW)
    assert new.citizen_auth.cert != old.citizen_auth.cert
    assert new.citizen_auth.cert.not_valid_before_utc <= WORLD_NOW < new.citizen_auth.cert.not_valid_after_utc
    assert any("renewed" in r.getMessage() and "expires" in r.getMessage() for r in caplog.records)


def test_a_pki_from_the_future_is_renewed(tmp_path: Path, caplog) -> None:
    """GIVEN a demo PKI made by a clock that ran a year ahead WHEN loaded at the right time
    THEN it is made again (its certificates were not valid yet)."""
    load_or_make_demo_pki(tmp_path, WORLD_NOW + YEAR)
    with caplog.at_level(logging.WARNING, logger="hardware.demo_pki"):
        new = load_or_make_demo_pki(tmp_path, WORLD_NOW)
    assert new.root.cert.not_valid_before_utc < WORLD_NOW
    assert any("not valid until" in r.getMessage() for r in caplog.records)


def test_a_demo_data_folder_made_years_ago_still_serves_a_villager(tmp_path: Path) -> None:
    """GIVEN a demo data folder whose kiosk ran three years ago WHEN the kiosk starts now
    THEN the demo card authenticates and a request is queued, as on the first day."""
    settings = load_settings(None, env={}).simulated(tmp_path / "data")
    then = FakeClock(WORLD_NOW - 3 * YEAR)
    first = build_services(settings, clock=then.wall, monotonic=then.monotonic)
    first.card_reader.start(first.journey.on_card_event)
    submit_one(first)
    first.close()
    now = FakeClock(WORLD_NOW)
    later = build_services(dataclasses.replace(settings), clock=now.wall, monotonic=now.monotonic)
    later.card_reader.start(later.journey.on_card_event)
    try:
        submit_one(later)
        assert later.outbox.stats()["queued"] == 2
    finally:
        later.close()
