"""The role login and staff screens in the real app, offscreen, driven by touches (``demo.staff_tour``)."""

from __future__ import annotations

import pytest

from tests.fixtures.staff_tour_run import checks_named, tour_report

STAFF_CHECKS = [
    ("a short tap in the corners",), ("a long press alone",), ("a tap too late",), ("the gesture opens",),
    ("a villager's card is refused",), ("never started a citizen session",), ("the staff card asks its PIN",),
    ("card + PIN + role list",), ("the queue lists",), ("cancelled with the reason",), ("reprint printed",),
    ("the day's report counts",), ("end-of-day summary printed",), ("assisted session: back to attract",),
    ("the assisted request was queued",), ("assisted start, request and end",), ("nobody is marked",),
    ("a wrong passcode says",), ("the passcode locks",), ("the idle timeout closes",), ("exit returns",),
]


def test_the_tour_ran_to_the_end() -> None:
    """GIVEN the staff tour WHEN it runs THEN no step raised and it exits 0."""
    report = tour_report()
    assert report["error"] == "" and report["returncode"] == 0, report["error"]


@pytest.mark.parametrize("words", STAFF_CHECKS, ids=lambda w: w[0])
def test_staff_check(words: tuple[str, ...]) -> None:
    """GIVEN touches on the attract corners, the role login and the staff screens WHEN each is read THEN it shows
    what the check expects (the gesture alone opens the login; a villager's card is refused; a staff card and
    PIN open staff mode; the passcode locks after its tries)."""
    found = checks_named(tour_report(), *words)
    assert found, f"no check named {words}"
    for name, ok, detail in found:
        assert ok, f"{name}: {detail}"


def test_each_staff_action_lands_in_the_audit_log() -> None:
    """GIVEN the tour's staff actions WHEN the audit log is read THEN logins, refusals, the cancellation (with its
    reason and the redacted note), the reprint, the day summary and the assisted session are each there, by the
    staff member's masked id, and the chain verifies."""
    report = tour_report()
    entries = report["audit"]
    by_staff = [(e["action"], e["details"]) for e in entries if e["actor_id"] == "*******2345"]
    done = [action for action, _ in by_staff]
    for action in ("role.login", "staff.cancel", "staff.reprint", "staff.day_summary", "assisted.start",
                   "assisted.request", "assisted.end"):
        assert action in done, (action, done)
    cancel = next(d for a, d in by_staff if a == "staff.cancel")
    assert cancel["reason"] == "duplicate" and cancel["outcome"] == "cancelled"
    assert cancel["note"] == "[text]", "the note typed in Georgian is redacted like a log line"
    refused = [e for e in entries if e["action"] == "role.refused"]
    assert refused and refused[0]["actor_id"] == "*******5083"
    assert report["audit_verified"] is True
    assert "01001012345" not in str(entries) and "01001015083" not in str(entries)


def test_no_passcode_or_personal_number_in_the_log() -> None:
    """GIVEN the passcode and the staff card typed during the tour WHEN the kiosk log is read THEN neither shows."""
    assert tour_report()["log_has_secret"] is False
