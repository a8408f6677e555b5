"""Every message key the special flows use (many are built at run time) is translated in every language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets import ASSETS_DIR
from kiosk.i18n import load_messages
from kiosk.my_requests import STATE_KEYS
from kiosk.pin_flow import _PROMPTS
from kiosk.ports import PinKind

REPO = Path(__file__).resolve().parents[2]
FLOW_FILES = [
    "kiosk/signing.py", "kiosk/sending.py", "kiosk/pin_flows.py", "kiosk/pin_flow.py", "kiosk/my_requests.py", "kiosk/speech.py",
    "screens/sign/sign.kv", "screens/sign/sign.py", "screens/pin_change/pin_change.kv",
    "screens/pin_change/pin_change.py", "screens/my_requests/my_requests.kv", "screens/my_requests/my_requests.py",
    "screens/rating/rating.kv", "screens/message/message.kv",
]
LITERAL = re.compile(r"""["']((?:sign|pin_change|puk|requests|rating|error|blocked|pin)\.[a-z_.0-9]+)["']""")


def flow_keys() -> set[str]:
    """Keys written out in the flows' files, plus those built from values at run time."""
    keys: set[str] = set()
    for name in FLOW_FILES:
        keys |= set(LITERAL.findall((REPO / name).read_text(encoding="utf-8")))
    keys |= set(STATE_KEYS.values()) | {"requests.state.unknown"} | set(_PROMPTS.values())
    keys |= {f"pin_change.done_{k.value}" for k in PinKind} | {f"pin_change.locked_{k.value}" for k in PinKind}
    keys |= {f"rating.score_{n}" for n in range(1, 6)}
    return keys


def test_the_scan_finds_the_flow_keys() -> None:
    """GIVEN the flows' files WHEN scanned THEN known keys are found (the scan itself works)."""
    assert {"sign.incorrect", "pin_change.error.mismatch", "puk.done", "rating.skip", "error.signer_mismatch"} <= flow_keys()


@pytest.mark.parametrize("language", ["ka", "en", "ru", "az", "hy"])
def test_every_flow_key_is_translated(language: str) -> None:
    """GIVEN a language WHEN its catalogue is loaded THEN every key of the special flows has a translation."""
    assert sorted(flow_keys() - set(load_messages(ASSETS_DIR / "locale", language))) == []
