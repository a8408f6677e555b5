"""The hub's own keys: an X25519 key pair that opens sealed payloads, an Ed25519 key that signs documents.

They live in two 0600 base64 text files: in a folder of their own (``--keys DIR``: ``DIR/seal.key``,
``DIR/sign.key``; a fleet hub on PostgreSQL), or next to a SQLite database (``<db>.seal.key``,
``<db>.sign.key``; the demo and pilots). ``hub init`` makes them once and never overwrites them: a
new sealing key would make every stored payload unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey


class HubKeysMissing(FileNotFoundError):
    """The key files are not there: run ``kiosk hub init`` first."""


@dataclass(frozen=True)
class KeyFiles:
    """Where a hub's two private keys are kept."""

    seal: Path
    sign: Path

    @classmethod
    def beside(cls, db_path: Path) -> KeyFiles:
        """Next to a SQLite database: ``<db>.seal.key`` and ``<db>.sign.key``."""
        return cls(db_path.with_name(db_path.name + ".seal.key"), db_path.with_name(db_path.name + ".sign.key"))

    @classmethod
    def in_folder(cls, folder: Path) -> KeyFiles:
        """In a folder of their own: ``seal.key`` and ``sign.key``."""
        return cls(folder / "seal.key", folder / "sign.key")


def _files(where: KeyFiles | Path) -> KeyFiles:
    return where if isinstance(where, KeyFiles) else KeyFiles.beside(where)


@dataclass(frozen=True)
class HubKeys:
    """The hub's private keys and the public halves a kiosk pins at enrolment."""

    seal_private: bytes
    sign_key: SigningKey

    @property
    def seal_public(self) -> bytes:
        """The X25519 public key kiosks seal payloads to."""
        return bytes(PrivateKey(self.seal_private).public_key)

    @property
    def verify_key(self) -> VerifyKey:
        """The Ed25519 public key that checks the hub's documents."""
        return self.sign_key.verify_key

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose`` (the citizen lookup, the presence nonces), derived from the
        sealing key with keyed BLAKE2b: nothing more to keep, and a restored hub derives the same."""
        return hashlib.blake2b(purpose.encode("utf-8"), key=self.seal_private, digest_size=32).digest()

    def public_b64(self) -> dict[str, str]:
        """Both public keys in base64, as the enrolment answer gives them."""
        return {
            "hub_seal_public_key": base64.b64encode(self.seal_public).decode("ascii"),
            "hub_sign_public_key": base64.b64encode(bytes(self.verify_key)).decode("ascii"),
        }


def _write_secret(path: Path, raw: bytes) -> None:
    # O_EXCL: never replace a key that exists; 0600 from the first byte, not chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(raw).decode("ascii") + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_secret(path: Path) -> bytes:
    try:
        raw = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except FileNotFoundError:
        raise HubKeysMissing(f"{path} is missing: run `kiosk hub init`") from None
    if len(raw) != 32:
        raise ValueError(f"{path} does not hold a 32-byte key")
    return raw


def load_keys(where: KeyFiles | Path) -> HubKeys:
    """The keys kept at ``where`` (a SQLite database's path: beside it); HubKeysMissing before ``hub init``."""
    files = _files(where)
    return HubKeys(_read_secret(files.seal), SigningKey(_read_secret(files.sign)))


def ensure_keys(where: KeyFiles | Path) -> HubKeys:
    """Make whichever key file is missing (a new folder 0700), then load both."""
    files = _files(where)
    for path in (files.seal, files.sign):
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
    if not files.seal.exists():
        _write_secret(files.seal, bytes(PrivateKey.generate()))
    if not files.sign.exists():
        _write_secret(files.sign, bytes(SigningKey.generate()))
    return load_keys(files)
