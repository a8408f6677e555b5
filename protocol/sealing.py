"""Personal data is sealed to the hub's public key: the kiosk cannot read back what it queued.

libsodium sealed boxes (PyNaCl): X25519 + XSalsa20-Poly1305 with an ephemeral sender key.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox


class PayloadSealer:
    """Seals JSON payloads to one hub public key."""

    def __init__(self, hub_public_key: bytes) -> None:
        self._box = SealedBox(PublicKey(hub_public_key))

    def seal(self, payload: dict[str, Any]) -> bytes:
        """Canonical JSON of ``payload``, sealed; only the hub's private key opens it."""
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self._box.encrypt(blob.encode("utf-8"))


def open_sealed(private_key: bytes, sealed: bytes) -> dict[str, Any]:
    """The hub side: open a sealed payload with the hub's private key."""
    return json.loads(SealedBox(PrivateKey(private_key)).decrypt(sealed))


def decode_key(text: str) -> bytes:
    """A 32-byte key from base64 (as written in config), or ValueError."""
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("a key must be 32 bytes")
    return raw


def load_or_make_secret(path: Path) -> bytes:
    """A 32-byte local secret kept in a 0600 file, made on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
        fh.flush()
        os.fsync(fh.fileno())
    return secret
