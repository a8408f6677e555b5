"""The special flows' screens in the real Kivy app, offscreen, driven by touches (in a subprocess:
one Kivy window per process)."""

from __future__ import annotations

import pytest

from tests.fixtures.kivy_child import child_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("flow-screens")
    return child_report("-m tests.fixtures.flow_screens", out / "report.json")


def test_the_script_ran_to_the_end(report: dict) -> None:
    """GIVEN the driven app WHEN the script runs THEN no step raised and every check was made."""
    assert report["error"] == ""
    assert len(report["checks"]) == 25


@pytest.mark.parametrize("index", range(25))
def test_each_check_passed(report: dict, index: int) -> None:
    """GIVEN touches on the PIN change, my requests, signing, speaker, rating and card-pull steps
    WHEN each screen is read THEN it shows what the check expects."""
    name, ok, detail = report["checks"][index]
    assert ok, f"{name}: {detail}"


def test_no_typed_code_reaches_the_log(report: dict) -> None:
    """GIVEN the codes typed in the script WHEN the kiosk log is read THEN none of them is there."""
    assert report["log_lines"] > 5  # the log was written (the journey logs each step it takes)
    assert report["log_has_secret"] is False
