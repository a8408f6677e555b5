"""The technician passcode: a slow salted hash, a rate limit that survives restarts, `kiosk passcode-hash`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.passcode import (
    PasscodeGate,
    PasscodeHashInvalid,
    PasscodeLocked,
    PasscodeNotSet,
    PasscodeRefused,
    hash_passcode,
    parse_hash,
    verify_passcode,
)

REPO = Path(__file__).resolve().parents[2]
FAST = {"n": 2**14}  # the smallest cost parse_hash accepts, to keep the tests quick


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_passcode("field-tech-42", **FAST)


def _gate(tmp_path: Path, stored: str, clock, tries: int = 3) -> PasscodeGate:
    return PasscodeGate(stored, max_tries=tries, lockout_s=300, state_path=tmp_path / "tries.json", clock=clock.wall)


def test_hash_is_salted_scrypt_with_its_parameters() -> None:
    """GIVEN one passcode hashed twice WHEN compared THEN both are scrypt strings with their parameters,
    differ by salt, and both verify; a wrong passcode does not; a too-short passcode is refused."""
    first, second = hash_passcode("field-tech-42", **FAST), hash_passcode("field-tech-42", **FAST)
    assert first.startswith("scrypt$n=16384,r=8,p=1$") and first != second
    assert verify_passcode("field-tech-42", first) and verify_passcode("field-tech-42", second)
    assert not verify_passcode("field-tech-43", first)
    assert parse_hash(hash_passcode("another-one"))[0] == 2**15  # the default cost
    with pytest.raises(ValueError):
        hash_passcode("12345")


@pytest.mark.parametrize("bad", ["", "plain", "scrypt$n=1024,r=8,p=1$AAAA$AAAA", "bcrypt$n=16384,r=8,p=1$AA$AA"])
def test_a_malformed_or_weak_hash_is_refused(bad: str, tmp_path: Path, clock) -> None:
    """GIVEN a hash that is no scrypt hash, or too cheap WHEN parsed THEN PasscodeHashInvalid."""
    with pytest.raises(PasscodeHashInvalid):
        parse_hash(bad)


def test_wrong_tries_lock_the_passcode_and_survive_a_restart(tmp_path: Path, stored: str, clock) -> None:
    """GIVEN 3 tries allowed WHEN wrong twice, then the kiosk restarts (a new gate), then wrong again
    THEN tries left count down 2, 1 across the restart, the third locks it, and even the right passcode is
    refused until the lockout ends; after it, the right passcode opens."""
    with pytest.raises(PasscodeRefused) as first:
        _gate(tmp_path, stored, clock).check("guess-one")
    assert first.value.tries_left == 2
    with pytest.raises(PasscodeRefused) as second:
        _gate(tmp_path, stored, clock).check("guess-two")
    assert second.value.tries_left == 1
    restarted = _gate(tmp_path, stored, clock)
    with pytest.raises(PasscodeLocked):
        restarted.check("guess-three")
    clock.advance(200)
    with pytest.raises(PasscodeLocked) as locked:
        _gate(tmp_path, stored, clock).check("field-tech-42")
    assert 99 <= locked.value.seconds_left <= 101
    clock.advance(101)
    _gate(tmp_path, stored, clock).check("field-tech-42")
    assert _gate(tmp_path, stored, clock).seconds_locked() == 0


def test_a_right_passcode_resets_the_count(tmp_path: Path, stored: str, clock) -> None:
    """GIVEN two wrong tries WHEN the right one follows THEN the next wrong try has the full count again."""
    gate = _gate(tmp_path, stored, clock)
    for guess in ("a-wrong-1", "a-wrong-2"):
        with pytest.raises(PasscodeRefused):
            gate.check(guess)
    gate.check("field-tech-42")
    with pytest.raises(PasscodeRefused) as again:
        gate.check("a-wrong-3")
    assert again.value.tries_left == 2


def test_a_damaged_state_file_locks_rather_than_unlocks(tmp_path: Path, stored: str, clock) -> None:
    """GIVEN the tries file overwritten with garbage WHEN the passcode is tried THEN it is locked."""
    (tmp_path / "tries.json").write_text("{not json")
    with pytest.raises(PasscodeLocked):
        _gate(tmp_path, stored, clock).check("field-tech-42")


def test_no_passcode_configured(tmp_path: Path, clock) -> None:
    """GIVEN no hash in the configuration WHEN anything is tried THEN PasscodeNotSet."""
    gate = _gate(tmp_path, "", clock)
    assert not gate.configured
    with pytest.raises(PasscodeNotSet):
        gate.check("field-tech-42")


def test_cli_passcode_hash_reads_stdin_never_argv(tmp_path: Path) -> None:
    """GIVEN `kiosk passcode-hash` WHEN the passcode comes on stdin THEN it prints a hash that verifies and the
    passcode is nowhere in the output; a passcode given as an argument is refused by the parser."""
    env = {**os.environ, "KIOSK_KIOSK_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "entrypoints", "passcode-hash"], input="field-tech-42\n",
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    digest = proc.stdout.strip()
    assert verify_passcode("field-tech-42", digest)
    assert "field-tech-42" not in proc.stdout + proc.stderr
    refused = subprocess.run([sys.executable, "-m", "entrypoints", "passcode-hash", "field-tech-42"],
                             capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr
