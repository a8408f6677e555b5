"""Georgian time on a Georgian kiosk: what people read is in ``[kiosk] timezone``; what is stored stays UTC."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.clock import LocalTime
from kiosk.config import ConfigError, load_settings
from kiosk.day_report import day_report
from tests.fixtures.clock import WORLD_NOW, FakeClock
from tests.fixtures.journey_run import submit_one

REPO = Path(__file__).resolve().parents[2]
TBILISI_MIDNIGHT = WORLD_NOW.replace(hour=20)  # 20:00 UTC is midnight in Tbilisi (UTC+4, no summer time)


def test_local_time_turns_utc_into_tbilisi_time() -> None:
    """GIVEN 19:59 UTC and 20:00 UTC WHEN read in Asia/Tbilisi THEN they fall on two local days, four hours on."""
    from zoneinfo import ZoneInfo

    local = LocalTime(lambda: TBILISI_MIDNIGHT, ZoneInfo("Asia/Tbilisi"))
    assert local.now().hour == 0 and local.today() == (TBILISI_MIDNIGHT + dt.timedelta(hours=4)).date()
    assert local.day_of(TBILISI_MIDNIGHT - dt.timedelta(minutes=1)) == TBILISI_MIDNIGHT.date()
    assert local.of(TBILISI_MIDNIGHT.replace(tzinfo=None)).utcoffset() == dt.timedelta(hours=4)


def test_the_default_zone_is_tbilisi_and_a_bad_one_is_a_config_error() -> None:
    """GIVEN no setting, then an unknown zone WHEN settings load THEN Asia/Tbilisi, then a ConfigError naming the key."""
    assert load_settings(None, env={}).kiosk.timezone == "Asia/Tbilisi"
    with pytest.raises(ConfigError, match="kiosk.timezone"):
        load_settings(None, env={"KIOSK_KIOSK_TIMEZONE": "Mars/Olympus"})


@pytest.fixture
def midnight_clock() -> FakeClock:
    return FakeClock(TBILISI_MIDNIGHT - dt.timedelta(minutes=30))


@pytest.fixture
def late_kiosk(demo_settings, midnight_clock):
    from entrypoints.bootstrap import build_services

    built = build_services(demo_settings, clock=midnight_clock.wall, monotonic=midnight_clock.monotonic)
    built.card_reader.start(built.journey.on_card_event)
    yield built
    built.close()


def test_receipt_number_date_and_day_report_follow_tbilisi_midnight(late_kiosk, midnight_clock) -> None:
    """GIVEN a request at 23:30 and one at 00:30 Tbilisi time WHEN they are queued
    THEN the receipt shows local time, the numbers are on two local days, and each day's report counts one."""
    submit_one(late_kiosk)
    first = late_kiosk.journey.session.result.receipt
    late_kiosk.journey.finish()
    late_kiosk.demo.reader.remove()
    midnight_clock.advance(3600)
    submit_one(late_kiosk)
    second = late_kiosk.journey.session.result.receipt
    before, after = TBILISI_MIDNIGHT.date(), (TBILISI_MIDNIGHT + dt.timedelta(hours=4)).date()
    assert first.receipt_no.split("-")[2] == f"{before:%y%m%d}"
    assert second.receipt_no.split("-")[2] == f"{after:%y%m%d}"
    assert first.created_at.strftime("%H:%M") == "23:30"
    assert any(f"{after:%d.%m.%Y} 00:30" in line.text for line in second.lines)
    zone = late_kiosk.local_time.tz
    assert day_report(late_kiosk.outbox, late_kiosk.ratings, before, zone).total == 1
    assert day_report(late_kiosk.outbox, late_kiosk.ratings, after, zone).total == 1


def test_print_test_prints_tbilisi_time_whatever_the_machines_tz(tmp_path: Path) -> None:
    """GIVEN the machine's TZ set to New York WHEN `kiosk print-test` prints THEN the receipt number's day is
    Tbilisi's date (the two differ for 9 hours of each day, so compare with Tbilisi's date computed here)."""
    from zoneinfo import ZoneInfo

    env = {**os.environ, "TZ": "America/New_York", "KIOSK_KIOSK_DATA_DIR": str(tmp_path)}
    before = dt.datetime.now(ZoneInfo("Asia/Tbilisi")).date()
    proc = subprocess.run([sys.executable, "-m", "entrypoints", "print-test", "--printer", f"file://{tmp_path}/r.bin",
                           "--lang", "en"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    after = dt.datetime.now(ZoneInfo("Asia/Tbilisi")).date()
    assert proc.returncode == 0, proc.stderr
    assert any(f"-{day:%y%m%d}-TEST" in proc.stdout for day in (before, after)), proc.stdout
