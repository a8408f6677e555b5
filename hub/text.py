"""Control characters in kiosk-supplied text: refused at intake, escaped whenever the hub prints."""

from __future__ import annotations

import re
from typing import Any

# C0 (tabs and newlines too), DEL, C1 (8-bit CSI, NEL, ...), the bidi marks, embeddings, overrides and
# isolates, and the line/paragraph separators: none belongs in a receipt number, a service id, a kiosk
# name or a device status, and each can move a terminal's cursor or reorder what an operator reads.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What ``json.dumps`` leaves raw: it escapes C0 inside strings itself, and C0 outside them is its layout.
_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def has_control(text: str) -> bool:
    """True when ``text`` holds any character of ``CONTROL``."""
    return CONTROL.search(text) is not None


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    r"""``text`` with each control character written out (``\x1b``, ``\u202e``), safe for a terminal."""
    return CONTROL.sub(_escaped, text)


def json_escape_controls(text: str) -> str:
    r"""JSON text with the control characters ``json.dumps(ensure_ascii=False)`` leaves raw as ``\uXXXX``.

    They can only occur inside JSON strings, where the escape means the same character.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def find_control(value: Any) -> bool:
    """True when any string in a parsed JSON value (keys too, at any depth) holds a control character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_control(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
