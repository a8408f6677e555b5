"""The technician's local passcode: a slow salted hash in config, and a persisted rate limit.

The hash string carries its own parameters, ``scrypt$n=32768,r=8,p=1$<salt>$<hash>`` (base64),
so they can be raised later without breaking hashes already in configs. Wrong tries are counted
in a small file in the data directory (written with fsync), so pulling the plug does not reset
the count; after ``max_tries`` the passcode is refused for ``lockout_s`` without even being hashed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError
from offline.atomic_files import write_atomic

SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**15, 8, 1  # about 0.1 s and 32 MiB per try on a small PC
SALT_BYTES, HASH_BYTES = 16, 32
MIN_LENGTH = 6


class PasscodeError(KioskError):
    """Base of the passcode errors; each names a translation key."""

    translation_key = "error.passcode"

    @property
    def params(self) -> dict[str, object]:
        """Values the translated message may use."""
        return {}


class PasscodeNotSet(PasscodeError):
    """No technician passcode is configured on this kiosk."""

    translation_key = "error.passcode_not_set"


class PasscodeRefused(PasscodeError):
    """Wrong passcode; ``tries_left`` before the lockout."""

    translation_key = "error.passcode_wrong"

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong passcode, {tries_left} tries left")
        self.tries_left = tries_left

    @property
    def params(self) -> dict[str, object]:
        return {"tries": self.tries_left}


class PasscodeLocked(PasscodeError):
    """Too many wrong tries; ``seconds_left`` until the passcode may be tried again."""

    translation_key = "error.passcode_locked"

    def __init__(self, seconds_left: float) -> None:
        super().__init__(f"passcode locked for {seconds_left:.0f} s")
        self.seconds_left = seconds_left

    @property
    def params(self) -> dict[str, object]:
        return {"minutes": max(1, round(self.seconds_left / 60))}


class PasscodeHashInvalid(ValueError):
    """The configured hash is not one ``hash_passcode`` makes."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(passcode: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: the default 32 MiB is just below what n=2**15, r=8 needs (128 * r * n bytes)
    return hashlib.scrypt(passcode.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES,
                          maxmem=256 * r * n + 1024 * 1024)


def hash_passcode(passcode: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """A fresh salted scrypt hash for ``[access] technician_passcode_hash``."""
    if len(passcode) < MIN_LENGTH:
        raise ValueError(f"a passcode needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}$n={n},r={r},p={p}${_b64(salt)}${_b64(_scrypt(passcode, salt, n, r, p))}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, hash) from a stored hash string, or ``PasscodeHashInvalid``."""
    try:
        scheme, params, salt, digest = stored.split("$")
        values = dict(item.split("=") for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        salt_bytes, digest_bytes = _unb64(salt), _unb64(digest)
    except (ValueError, KeyError):
        raise PasscodeHashInvalid("not a passcode hash made by `kiosk passcode-hash`") from None
    if scheme != SCHEME or n < 2**14 or n & (n - 1) or not (1 <= r <= 32 and 1 <= p <= 16):
        raise PasscodeHashInvalid("unsupported passcode hash parameters")
    return n, r, p, salt_bytes, digest_bytes


def verify_passcode(passcode: str, stored: str) -> bool:
    """True when ``passcode`` matches ``stored`` (compared in constant time)."""
    n, r, p, salt, digest = parse_hash(stored)
    return hmac.compare_digest(_scrypt(passcode, salt, n, r, p), digest)


@dataclass(frozen=True)
class _Tries:
    failures: int = 0
    locked_until: float = 0.0  # POSIX seconds; wall time, since a reboot resets monotonic clocks


class PasscodeGate:
    """Checks the technician passcode with a rate limit that survives restarts."""

    def __init__(self, stored_hash: str, *, max_tries: int, lockout_s: float, state_path: Path,
                 clock: Callable[[], dt.datetime]) -> None:
        if stored_hash:
            parse_hash(stored_hash)  # a broken hash is a configuration error, found at start
        self._stored = stored_hash
        self._max_tries = max(1, max_tries)
        self._lockout_s = lockout_s
        self._path = state_path
        self._clock = clock

    @property
    def configured(self) -> bool:
        """True when a passcode is set on this kiosk."""
        return bool(self._stored)

    def _load(self) -> _Tries:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            return _Tries(int(data["failures"]), float(data["locked_until"]))
        except FileNotFoundError:
            return _Tries()
        except (ValueError, KeyError, TypeError):
            # a damaged file must not unlock the passcode: treat it as a full lockout
            return _Tries(self._max_tries, self._clock().timestamp() + self._lockout_s)

    def _save(self, tries: _Tries) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self._path, json.dumps(tries.__dict__).encode("utf-8"))

    def seconds_locked(self) -> float:
        """Seconds until the passcode may be tried again (0 when it may be now)."""
        return max(0.0, self._load().locked_until - self._clock().timestamp())

    def check(self, passcode: str) -> None:
        """Return when ``passcode`` is right; raise ``PasscodeNotSet``, ``PasscodeLocked`` or ``PasscodeRefused``."""
        if not self._stored:
            raise PasscodeNotSet()
        now = self._clock().timestamp()
        tries = self._load()
        if tries.locked_until > now:
            raise PasscodeLocked(tries.locked_until - now)
        if tries.locked_until:  # the lockout is over: a fresh set of tries
            tries = _Tries()
        if verify_passcode(passcode, self._stored):
            if tries.failures:
                self._save(_Tries())
            return
        failures = tries.failures + 1
        if failures >= self._max_tries:
            self._save(_Tries(failures, now + self._lockout_s))
            raise PasscodeLocked(self._lockout_s)
        self._save(_Tries(failures, 0.0))
        raise PasscodeRefused(self._max_tries - failures)
