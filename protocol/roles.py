"""The role list's wire form: who may open the staff and technician modes, without their numbers.

The hub issues one list per kiosk (``kiosk_id`` inside, signed), so a list taken from one kiosk is
refused by another. People are named by a slow keyed hash of their personal number (scrypt, with
the list's salt), not by the number: a copied list does not hand out every staff member's number,
and checking guesses one by one is slow. The kiosk hashes the number on the card it just
authenticated and looks that up.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from protocol.wire import canonical_json

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**13, 8, 1  # about 20 ms and 8 MB a number on this machine


@dataclass(frozen=True)
class PersonHash:
    """How the list names people: scrypt with these parameters and salt."""

    salt: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def of(self, personal_number: str) -> str:
        """The list's name for the holder of ``personal_number`` (hex)."""
        return hashlib.scrypt(personal_number.encode("ascii"), salt=self.salt, n=self.n, r=self.r, p=self.p,
                              maxmem=256 * 1024 * 1024, dklen=32).hex()

    def describe(self) -> dict[str, Any]:
        """The parameters as the list carries them."""
        return {"alg": "scrypt", "n": self.n, "r": self.r, "p": self.p,
                "salt": base64.b64encode(self.salt).decode("ascii")}

    @classmethod
    def from_list(cls, described: Any) -> PersonHash:
        """The parameters a list carries; ValueError when they are not ones a kiosk will run."""
        if not isinstance(described, dict) or described.get("alg") != "scrypt":
            raise ValueError("unknown person hash")
        n, r, p = described.get("n"), described.get("r"), described.get("p")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p)):
            raise ValueError("bad person hash parameters")
        assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
        if not (2**10 <= n <= 2**16 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4):
            raise ValueError("person hash parameters out of range")  # a hostile list must not stall the kiosk
        return cls(base64.b64decode(str(described.get("salt", "")), validate=True), n, r, p)


def role_list_body(entries: list[tuple[str, str, str]], *, kiosk_id: str, issued_at: str, expires_at: str,
                   hashing: PersonHash) -> bytes:
    """The canonical bytes of a role list for one kiosk; ``entries`` are (personal number, role, name)."""
    roles = [{"person": hashing.of(number), "role": role, "name": name} for number, role, name in entries]
    return canonical_json({"kiosk_id": kiosk_id, "person_hash": hashing.describe(), "roles": roles,
                           "issued_at": issued_at, "expires_at": expires_at})
