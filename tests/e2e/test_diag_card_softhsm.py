"""`kiosk diag card --json` against a SoftHSM2 token, configured only through the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.demo_pki import Flaw, make_demo_pki
from tests.fixtures.clock import real_now
from tests.fixtures.softhsm import (
    AUTH_KEY_ID,
    AUTH_PIN,
    CARD_LABEL,
    SIGN_KEY_ID,
    SIGN_PIN,
    build_citizen_tokens,
    make_softhsm_store,
    softhsm_missing,
)

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(softhsm_missing() is not None, reason=str(softhsm_missing()))


def _diag(tmp_path: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra, "KIOSK_CARD_DRIVER": "pkcs11", "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "entrypoints", "diag", "card", "--json"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


def test_diag_card_reads_a_softhsm_token_without_a_pin(tmp_path: Path) -> None:
    """GIVEN the demo citizen's tokens in SoftHSM2 and only KIOSK_CARD_* variables (no hub, no printer)
    WHEN `kiosk diag card --json` runs THEN it exits 0 naming the masked holder and both certificates valid."""
    pki = make_demo_pki(real_now())  # `kiosk diag card` reads the wall clock
    tokens = build_citizen_tokens(pki, tmp_path / "hsm")
    anchors = pki.write_trust_anchors(tmp_path / "anchors")
    proc = _diag(tmp_path, {**tokens.env, "KIOSK_CARD_TRUST_ANCHORS": str(anchors)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["card_read"] is True
    assert report["holder"]["personal_number"] == "********083"
    assert "01024085083" not in proc.stdout
    roles = {c["role"]: c["status"] for c in report["certificates"]}
    assert roles == {"authentication": "valid", "signing": "valid"}


def test_diag_card_names_an_expired_certificate_and_still_exits_0(tmp_path: Path) -> None:
    """GIVEN a token whose authentication certificate has expired WHEN `kiosk diag card --json` runs
    THEN the certificate's status is `expired` with a reason, and the exit status is 0 (a card was read)."""
    pki = make_demo_pki(real_now())  # `kiosk diag card` reads the wall clock
    expired = pki.issue_citizen("authentication", flaw=Flaw.EXPIRED)
    tokens = make_softhsm_store(tmp_path / "hsm")
    tokens.add_token(f"{CARD_LABEL} (PIN1)", AUTH_PIN)
    tokens.put(f"{CARD_LABEL} (PIN1)", AUTH_PIN, expired, AUTH_KEY_ID, "Authentication")
    tokens.add_token(f"{CARD_LABEL} (PIN2)", SIGN_PIN)
    tokens.put(f"{CARD_LABEL} (PIN2)", SIGN_PIN, pki.citizen_sign, SIGN_KEY_ID, "Signature")
    anchors = pki.write_trust_anchors(tmp_path / "anchors")
    proc = _diag(tmp_path, {**tokens.env, "KIOSK_CARD_TRUST_ANCHORS": str(anchors)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    auth = next(c for c in report["certificates"] if c["role"] == "authentication")
    assert auth["status"] == "expired" and auth["reason"]


def test_diag_card_without_a_token_says_so_and_fails(tmp_path: Path) -> None:
    """GIVEN an empty SoftHSM2 store WHEN `kiosk diag card --json` runs THEN no card was read: exit 1."""
    pki = make_demo_pki(real_now())  # `kiosk diag card` reads the wall clock
    empty = make_softhsm_store(tmp_path / "hsm")
    anchors = pki.write_trust_anchors(tmp_path / "anchors")
    proc = _diag(tmp_path, {**empty.env, "KIOSK_CARD_TRUST_ANCHORS": str(anchors)})
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["card_read"] is False

