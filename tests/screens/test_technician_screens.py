"""The technician screens in the real app, offscreen, driven by touches (``demo.staff_tour``)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.staff_tour_run import checks_named, tour_report

TECH_CHECKS = [
    ("the passcode opens the technician mode",), ("card check lists the reader",), ("the card test reads",),
    ("starts no citizen session",), ("test print printed",), ("touch grid reports",), ("network check",),
    ("system shows versions",), ("the folder was typed",), ("the bundle is written",), ("enrolment from the screen",),
    ("sync now fetched",),
]


@pytest.mark.parametrize("words", TECH_CHECKS, ids=lambda w: w[0])
def test_technician_check(words: tuple[str, ...]) -> None:
    """GIVEN the passcode login (offline) and touches on each technician check WHEN read THEN as expected: readers
    and a card test without PIN, a test print, touch offsets in mm, hub and queue, versions with secrets hidden,
    a bundle to a typed folder, enrolment with the real hub typed on the keyboard, and "sync now"."""
    found = checks_named(tour_report(), *words)
    assert found, f"no check named {words}"
    for name, ok, detail in found:
        assert ok, f"{name}: {detail}"


def test_the_bundle_holds_no_personal_data() -> None:
    """GIVEN a villager's request before the bundle WHEN the zip is read THEN no personal number, no name, no PIN."""
    bundle = Path(tour_report()["facts"]["bundle"])
    with zipfile.ZipFile(bundle) as zf:
        text = "".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())
        names = zf.namelist()
    assert {"diag.json", "config.json", "queue.json", "audit-tail.json", "manifest.json"} <= set(names)
    assert "01001015083" not in text and "ნინო" not in text and "482916" not in text
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", json.dumps(json.loads(zf_read(bundle, "queue.json"))))
    assert "diag.bundle" in [e["action"] for e in tour_report()["audit"]]


def zf_read(bundle: Path, name: str) -> str:
    with zipfile.ZipFile(bundle) as zf:
        return zf.read(name).decode("utf-8")


def test_every_mode_screen_was_photographed_in_georgian_and_english() -> None:
    """GIVEN the tour WHEN its pictures are listed THEN each mode screen exists in ka and in en."""
    pictures = [Path(p).name for p in tour_report()["pictures"]]
    for lang in ("ka", "en"):
        shots = [p for p in pictures if p.startswith(f"{lang}-")]
        for screen in ("role-login", "tech-card", "tech-printer", "tech-touch", "tech-network", "tech-system",
                       "tech-bundle", "tech-enrol", "staff-queue", "staff-cancel", "staff-report", "staff-assist"):
            assert any(screen in p for p in shots), (lang, screen)
