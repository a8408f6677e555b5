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
from protocol.wire import HEADER_HUB_SIGNATURE, HEADER_NONCE, verify_answer
from tests.fixtures.hub_server import RunningHub

REPO = Path(__file__).resolve().parents[2]


def _beat(client: Any, seq: int, head: str) -> str | None:
    """Send a heartbeat with this audit head; the hub's answer's ``audit_problem``."""
    beat = {"version": "0.1.0", "queue": {}, "printer": "ready", "reader": "1 reader(s)",
            "audit_checkpoint": {"seq": seq, "hash": head}}
    answer = client.call("POST", "/v1/heartbeat", json.dumps(beat).encode())
    assert answer.status_code == 200
    assert verify_answer(client.hub.verify_key, answer.request.headers[HEADER_NONCE], 200, answer.content,
                         answer.headers[HEADER_HUB_SIGNATURE])
    return answer.json()["audit_problem"]


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
    THEN the fleet and the heartbeat's signed answer say went_back, and still do after the chain grows again."""
    assert _beat(client, 9, "h9") is None
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] is None
    assert _beat(client, 5, "h5") == "went_back"
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] == "went_back" and row["audit_problem_at"]
    assert _beat(client, 6, "h6") == "went_back"
    [row] = backoffice.fleet(hub_server.store)
    assert row["audit_problem"] == "went_back" and row["audit_checkpoint"]["seq"] == 6


def test_a_forked_head_is_flagged_and_the_cli_fleet_says_so(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a kiosk that reported entry 7 with one hash WHEN it reports entry 7 with another
    THEN `kiosk hub fleet` shows forked for it."""
    _beat(client, 7, "x" * 64)
    _beat(client, 7, "y" * 64)
    out = subprocess.run([sys.executable, "-m", "entrypoints", "hub", "fleet", *hub_server.cli_args(),
                          "--json"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    [kiosk] = json.loads(out.stdout)["kiosks"]
    assert kiosk["audit_problem"] == "forked"
