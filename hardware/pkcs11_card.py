"""The national ID card through its PKCS#11 module: ``Pkcs11IdCard`` and ``Pkcs11CardOpener``.

The opener finds the card's tokens (see ``hardware.pkcs11_module``), reads the certificates in
a public session and tells them apart by key usage: nonRepudiation marks the qualified-signature
certificate, digitalSignature alone the authentication one; each private key is the one with
its certificate's CKA_ID. Every operation re-reads the token (flags are a snapshot), opens one
session, logs in, works, and closes the session before returning — no session outlives a call,
none is left to ``__del__``. PINs reach the module as the caller's own ``bytearray`` (no
immutable copy is made here; the caller wipes it), or not at all when the token has a protected
authentication path (the reader's PIN pad). Every PKCS#11 error leaves as a ``kiosk.errors``
type.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hardware.pkcs11_module import Pkcs11Module, TokenRef, is_usable, pin_status_from_flags, translate_error
from kiosk.errors import CardUnsupported, PinFormatInvalid
from kiosk.ports import CardCertificates, PinKind, PinState, PinStatus, ReaderInfo

if is_usable():
    import pkcs11
    from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass, TokenFlag

log = logging.getLogger(__name__)

PIN_LENGTHS: Mapping[PinKind, tuple[int, int]] = {PinKind.AUTH: (4, 4), PinKind.SIGN: (6, 6)}
PUK_LENGTHS = (8, 8)
# DER prefix of DigestInfo { sha256, NULL } (RFC 8017 §9.2 note 1): RSA_PKCS signs it + the digest.
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True)
class KeyOnCard:
    """A private key on the card: its token, its CKA_ID and its certificate (DER)."""

    token: TokenRef
    key_id: bytes
    certificate: bytes


class _PinBuffer:
    """Hands a PIN ``bytearray`` to python-pkcs11 as is: its ``encode()`` returns the buffer itself.

    python-pkcs11 calls ``pin.encode("utf-8")`` and passes the result to C; a ``str`` PIN would
    leave an immutable copy of the digits in memory that nobody can overwrite.
    """

    __slots__ = ("_buffer",)

    def __init__(self, buffer: bytearray) -> None:
        self._buffer = buffer

    def encode(self, _encoding: str = "utf-8") -> bytearray:
        return self._buffer


def _check_format(value: bytearray | None, lengths: tuple[int, int]) -> None:
    if value is None or not (lengths[0] <= len(value) <= lengths[1]) or not bytes(value).isdigit():
        raise PinFormatInvalid(*lengths)


def certificate_role(der: bytes) -> PinKind | None:
    """Which key a certificate belongs to, by key usage: SIGN, AUTH, or None (neither, unreadable)."""
    try:
        usage = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(x509.KeyUsage).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    if usage.content_commitment:
        return PinKind.SIGN
    return PinKind.AUTH if usage.digital_signature else None


class Pkcs11IdCard:
    """The ``IdCard`` port over a PKCS#11 module; one object per inserted card."""

    def __init__(
        self,
        module: Pkcs11Module,
        auth: KeyOnCard,
        sign: KeyOnCard | None = None,
        *,
        pin_lengths: Mapping[PinKind, tuple[int, int]] = PIN_LENGTHS,
        puk_lengths: tuple[int, int] = PUK_LENGTHS,
    ) -> None:
        self._module = module
        self._keys = {PinKind.AUTH: auth, PinKind.SIGN: sign}
        # A card with one token has one PIN for both keys: the authentication PIN's rules hold.
        self._lengths = dict(pin_lengths)
        if sign is not None and sign.token == auth.token:
            self._lengths[PinKind.SIGN] = self._lengths[PinKind.AUTH]
        self._puk_lengths = puk_lengths
        self._opened: set[PinKind] = set()  # PINs that opened the card since it last refused one

    # -- what the card says without a PIN ----------------------------------------------------

    @property
    def protected_auth_path(self) -> bool:
        """True when the token takes its PIN from the reader's keypad, not from the kiosk."""
        return bool(self._module.token(self._key(PinKind.AUTH).token).flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH)

    def certificates(self) -> CardCertificates:
        """The authentication and signing certificates read when the card was opened."""
        auth = self._key(PinKind.AUTH)
        self._module.token(auth.token)  # CardRemoved if the card left
        sign = self._keys[PinKind.SIGN]
        return CardCertificates(auth.certificate, sign.certificate if sign else None)

    def pin_status(self, which: PinKind) -> PinStatus:
        """The PIN's state from the token flags, read now — except that a PIN which just opened the card is
        not locked: OpenSC's PIV driver keeps "locked" in its flags after a PUK unblock until the card is
        inserted again (found by the PIV contract tests)."""
        status = pin_status_from_flags(self._module.token(self._key(which).token).flags)
        if which in self._opened and status.state is PinState.LOCKED:
            return PinStatus(PinState.OK, None)
        return status

    def _used(self, which: PinKind, worked: bool) -> None:
        """Remember whether the PIN behind ``which`` just worked (both kinds when one PIN guards both keys)."""
        kinds = {which}
        sign, auth = self._keys[PinKind.SIGN], self._keys[PinKind.AUTH]
        if sign is not None and auth is not None and sign.token == auth.token:
            kinds = {PinKind.AUTH, PinKind.SIGN}
        if worked:
            self._opened |= kinds
        else:
            self._opened -= kinds

    # -- operations behind a PIN -------------------------------------------------------------

    def authenticate(self, pin: bytearray | None, challenge: bytes) -> bytes:
        """Sign ``challenge`` with the authentication key: RSA PKCS#1 v1.5 SHA-256, or DER ECDSA-SHA256."""
        key = self._key(PinKind.AUTH)
        self._check_pin(PinKind.AUTH, pin)
        with self._session(key, pin) as session:
            private = self._private_key(session, key)
            if private.key_type == KeyType.RSA:
                return private.sign(challenge, mechanism=Mechanism.SHA256_RSA_PKCS)
            # SoftHSM (and many cards) lack CKM_ECDSA_SHA256: hash here, sign the digest.
            return self._ecdsa(private, hashlib.sha256(challenge).digest())

    def sign(self, pin: bytearray | None, digest: bytes) -> bytes:
        """Sign a SHA-256 ``digest`` with the qualified-signature key (RSA PKCS#1 v1.5, or DER ECDSA)."""
        if len(digest) != 32:
            raise ValueError("sign() takes a 32-byte SHA-256 digest")
        key = self._key(PinKind.SIGN)
        self._check_pin(PinKind.SIGN, pin)
        with self._session(key, pin) as session:
            private = self._private_key(session, key)
            if private.key_type == KeyType.RSA:
                return private.sign(SHA256_DIGEST_INFO + digest, mechanism=Mechanism.RSA_PKCS)
            return self._ecdsa(private, digest)

    def change_pin(self, which: PinKind, old: bytearray, new: bytearray) -> None:
        """C_SetPIN in a session logged in with ``old``."""
        key = self._key(which)
        _check_format(old, self._lengths[which])
        _check_format(new, self._lengths[which])
        with self._session(key, old, rw=True) as session:
            session.set_pin(_PinBuffer(old), _PinBuffer(new))

    def unblock_pin(self, puk: bytearray, new: bytearray) -> None:
        """Log in as security officer with the PUK and set a new authentication PIN (C_InitPIN)."""
        key = self._key(PinKind.AUTH)
        _check_format(puk, self._puk_lengths)
        _check_format(new, self._lengths[PinKind.AUTH])
        with self._session(key, puk, rw=True, so=True) as session:
            session.init_pin(_PinBuffer(new))
        self._used(PinKind.AUTH, True)

    # -- helpers -----------------------------------------------------------------------------

    def _key(self, which: PinKind) -> KeyOnCard:
        key = self._keys[which]
        if key is None:
            raise CardUnsupported("the card has no qualified-signature key")
        return key

    def _kind_of(self, key: KeyOnCard) -> PinKind:
        return PinKind.SIGN if key is self._keys[PinKind.SIGN] and key is not self._keys[PinKind.AUTH] else PinKind.AUTH

    def _check_pin(self, which: PinKind, pin: bytearray | None) -> None:
        if pin is None and self.protected_auth_path:
            return
        _check_format(pin, self._lengths[which])

    @contextmanager
    def _session(self, key: KeyOnCard, secret: bytearray | None, *, rw: bool = False, so: bool = False) -> Iterator:
        """A session on ``key``'s token, logged in with ``secret`` (None: the reader's PIN pad)."""
        credential = pkcs11.PROTECTED_AUTH if secret is None else _PinBuffer(secret)
        with self._module.lock:
            token = self._module.token(key.token)
            which = self._kind_of(key)
            try:
                session = token.open(rw=rw, **{"so_pin" if so else "user_pin": credential})
            except pkcs11.PKCS11Error as exc:
                if not so:
                    self._used(which, False)
                # python-pkcs11 0.10 leaks the session it opened when C_Login fails, and a leaked
                # read-only session makes every later SO login fail (SessionReadOnlyExists).
                # Re-initialising the library closes it; no session of ours outlives this lock.
                self._module.reinitialize()
                raise translate_error(exc, self._module, key.token, so=so) from None
            if not so:
                self._used(which, True)
            try:
                yield session
            except pkcs11.PKCS11Error as exc:
                raise translate_error(exc, self._module, key.token) from None
            finally:
                self._close(session)

    def _close(self, session: object) -> None:
        try:
            session.close()  # type: ignore[attr-defined]
        except pkcs11.PKCS11Error as exc:
            # The card left mid-call: the module may still count the session; start it afresh.
            log.info("PKCS#11 session did not close (%s); re-initialising the module", type(exc).__name__)
            self._module.reinitialize()

    @staticmethod
    def _private_key(session: object, key: KeyOnCard):
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key.key_id}))  # type: ignore[attr-defined]
        if not found:
            raise CardUnsupported("no private key for the certificate")
        return found[0]

    @staticmethod
    def _ecdsa(private: object, digest: bytes) -> bytes:
        raw = private.sign(digest, mechanism=Mechanism.ECDSA)  # type: ignore[attr-defined]
        half = len(raw) // 2
        return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


class Pkcs11CardOpener:
    """The ``CardOpener`` for PKCS#11: the card in ``reader`` among the module's tokens."""

    def __init__(
        self,
        module: Pkcs11Module,
        token_label: str = "",
        *,
        pin_lengths: Mapping[PinKind, tuple[int, int]] = PIN_LENGTHS,
        puk_lengths: tuple[int, int] = PUK_LENGTHS,
    ) -> None:
        self._module = module
        self._token_label = token_label
        self._pin_lengths = pin_lengths
        self._puk_lengths = puk_lengths

    def __call__(self, reader: ReaderInfo) -> Pkcs11IdCard:
        """Open the card; ``CardUnsupported`` when no token of it holds a usable certificate."""
        tokens = self._tokens_for(reader.name)
        auth, sign = discover_keys(self._module, tokens)
        return Pkcs11IdCard(self._module, auth, sign, pin_lengths=self._pin_lengths, puk_lengths=self._puk_lengths)

    def _tokens_for(self, reader_name: str) -> tuple[TokenRef, ...]:
        cards = self._module.view(self._token_label).cards
        if reader_name in cards:
            return cards[reader_name]
        # OpenSC names its slots after the PC/SC reader, sometimes with more after the name.
        matching = [t for t in cards.values() if any(r.slot_description.startswith(reader_name) for r in t)]
        if len(matching) == 1:
            return matching[0]
        if not matching and len(cards) == 1:
            return next(iter(cards.values()))  # modules with their own slot names (SoftHSM, vendors)
        if not cards:
            raise CardUnsupported("the PKCS#11 module shows no token for this card")
        raise CardUnsupported("several tokens could be this card; set card.token_label")


def discover_keys(module: Pkcs11Module, tokens: tuple[TokenRef, ...]) -> tuple[KeyOnCard, KeyOnCard | None]:
    """The authentication key and (if any) the signing key among ``tokens``, read without a PIN."""
    candidates: dict[PinKind, list[tuple[bool, KeyOnCard]]] = {PinKind.AUTH: [], PinKind.SIGN: []}
    for ref in tokens:
        with module.lock:
            token = module.token(ref)
            try:
                with token.open() as session:
                    certs = [
                        (c[Attribute.ID], c[Attribute.VALUE])
                        for c in session.get_objects(
                            {Attribute.CLASS: ObjectClass.CERTIFICATE,
                             Attribute.CERTIFICATE_TYPE: CertificateType.X_509}
                        )
                    ]
                    key_ids = {
                        k[Attribute.ID]
                        for cls in (ObjectClass.PUBLIC_KEY, ObjectClass.PRIVATE_KEY)
                        for k in session.get_objects({Attribute.CLASS: cls})
                    }
            except pkcs11.PKCS11Error as exc:
                raise translate_error(exc, module, ref) from None
        for key_id, der in certs:
            role = certificate_role(der)
            if role is not None:
                # A certificate whose key is visible here is on the token of that key's PIN.
                candidates[role].append((key_id in key_ids, KeyOnCard(ref, key_id, der)))
    best = {role: max(found, key=lambda c: c[0])[1] if found else None for role, found in candidates.items()}
    auth = best[PinKind.AUTH]
    if auth is None:
        raise CardUnsupported("no authentication certificate on the card")
    return auth, best[PinKind.SIGN]
