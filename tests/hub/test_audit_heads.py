"""The hub keeps each kiosk's audit-chain head and flags one that goes back or forks (a chain
rewritten on a stolen disk verifies locally; only someone who saw the earlier head can tell)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub import backoffice
from hub.intake import audit_head_problem
from tests.fixtures.hub_server import RunningHub

REPO = Path(__file__).resolve().parents[2]


def _beat(client: Any, seq: int, head: str) -> None:
    beat = {"version": "0.1.0", "queue": {}, "printer": "ready", "reader": "1 reader(s)",
            "audit_checkpoint": {"seq": seq, "hash": head}}
    assert client.call("POST", "/v1/heartbeat", json.dumps(beat).encode()).status_code == 204


@pytest.mark.parametrize(("before", "seq", "head", "problem"), [
    (None, 5, "a", None),
    ((5, "a"), 9, "b", None),       # a longer chain: taken as it is
    ((5, "a"), 5, "a", None),       # nothing new logged
    ((9, "b"), 5, "a", "went_back"),
    ((5, "a"), 5, "c", "forked"),
])
def test_the_rule(before: tuple[int, str] | None, seq: int, head: str, problem: str | None) -> None:
    """GIVEN the head reported before WHEN a new head comes THEN fewer entries is went_back, the same
    count with another hash is forked, anything else is fine."""
    assert audit_head_problem(before, seq, head) == problem


def test_a_head_that_went_back_is_flagged_in_the_fleet_and_stays_flagged(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a kiosk that reported 9 audit entries WHEN its next heartbeat reports 5, then 6 again
    THEN the fleet says went_back with when, and still does after the chain grows again."""
    _beat(client, 9, "h9")
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] is None
    _beat(client, 5, "h5")
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] == "went_back" and row["audit_problem_at"]
    _beat(client, 6, "h6")
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] == "went_back" and row["audit_checkpoint"]["seq"] == 6


def test_a_forked_head_is_flagged_and_the_cli_fleet_says_so(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a kiosk that reported entry 7 with one hash WHEN it reports entry 7 with another
    THEN `kiosk hub fleet` shows forked for it."""
    _beat(client, 7, "x" * 64)
    _beat(client, 7, "y" * 64)
    out = subprocess.run([sys.executable, "-m", "entrypoints", "hub", "fleet", "--db", str(hub_server.db_path),
                          "--json"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    [kiosk] = json.loads(out.stdout)["kiosks"]
    assert kiosk["audit_problem"] == "forked"
