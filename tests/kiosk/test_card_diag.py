"""The technician's card report over the simulated reader and card, with certificates from the test PKI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hardware.simulated_card import SimulatedCardReader, SimulatedIdCard
from kiosk.card_diag import card_report, mask_number
from kiosk.errors import ReaderUnavailable
from kiosk.identity import CertificateValidator
from kiosk.ports import CardCertificates, CardEvent, ReaderInfo
from kiosk.revocation import RevocationChecker
from tests.fixtures.citizen_pki import CitizenCerts, make_citizen_certs
from tests.fixtures.clock import WORLD_NOW

NOW = WORLD_NOW  # the test world's clock
NUMBER = "01024085083"


@pytest.fixture(scope="module")
def certs() -> CitizenCerts:
    return make_citizen_certs(NOW)


@pytest.fixture(scope="module")
def crl_dir(certs: CitizenCerts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return certs.write_crls(tmp_path_factory.mktemp("crls"), this_update=NOW - dt.timedelta(hours=1))


def _validator(certs: CitizenCerts, crl_dir: Path | None, policy: str = "require") -> CertificateValidator:
    checker = RevocationChecker(crl_dir, clock=lambda: NOW, use_ocsp=False)
    return CertificateValidator(certs.anchors, lambda: NOW, revocation=checker, policy=policy)


class DamagedCard(SimulatedIdCard):
    """A simulated card whose authentication certificate reads back truncated (a damaged chip)."""

    def __init__(self, certs: CitizenCerts) -> None:
        super().__init__(certs.pki)
        self._malformed = certs.malformed

    def certificates(self) -> CardCertificates:
        return dataclasses.replace(super().certificates(), authentication=self._malformed)


def _report_for(card: SimulatedIdCard, validator: CertificateValidator) -> dict:
    reader = SimulatedCardReader(has_pinpad=True)
    reader.insert(card)
    return card_report(reader, reader.open_card, validator, "serialNumber")


def test_good_card_report(certs: CitizenCerts, crl_dir: Path) -> None:
    """GIVEN the demo card in a PIN-pad reader and a fresh CRL WHEN reported THEN both certificates are
    valid and revocation-checked by CRL, the holder is masked, and the full number appears nowhere."""
    report = _report_for(SimulatedIdCard(certs.pki), _validator(certs, crl_dir))
    assert report["pcsc_answers"] and report["token_present"] and report["card_read"]
    assert report["readers"][0]["has_pinpad"] is True and report["readers"][0]["card_present"] is True
    assert report["holder"] == {"personal_number": "********083", "given_name": "ნინო", "surname": "ბერიძე"}
    auth, sign = report["certificates"]
    assert (auth["role"], sign["role"]) == ("authentication", "signing")
    assert auth["status"] == sign["status"] == "valid"
    assert auth["revocation"]["method"] == "crl" and "revocation checked" in auth["reason"]
    assert "serialNumber=********083" in auth["subject"]
    assert auth["not_after"] == certs.pki.citizen_auth.cert.not_valid_after_utc.isoformat()
    assert NUMBER not in json.dumps(report, ensure_ascii=False)


CASES: dict[str, tuple[Callable[[CitizenCerts], SimulatedIdCard], str, bool, str]] = {
    # name: (card, expected authentication status, CRL present, words in the reason)
    "expired": (lambda c: SimulatedIdCard(c.with_auth(c.expired)), "expired", True, "expired on"),
    "not-yet-valid": (lambda c: SimulatedIdCard(c.with_auth(c.not_yet_valid)), "not_yet_valid", True, "valid from"),
    "revoked": (lambda c: SimulatedIdCard(c.with_auth(c.revoked)), "revoked", True, "revoked since"),
    "foreign": (lambda c: SimulatedIdCard(c.with_auth(c.foreign_issued)), "untrusted", True, "trust anchor"),
    "bad-usage": (lambda c: SimulatedIdCard(c.with_auth(c.auth_without_digital_signature)), "bad_usage", True,
                  "digitalSignature"),
    "revocation-unknown": (lambda c: SimulatedIdCard(c.pki), "revocation_unknown", False, "no CRL folder"),
    "malformed": (DamagedCard, "untrusted", True, "cannot be parsed"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_authentication_certificate_is_reported_with_its_status(certs: CitizenCerts, crl_dir: Path,
                                                                    case: str) -> None:
    """GIVEN a card whose authentication certificate is bad in one way WHEN reported under "require"
    THEN the card still counts as read and that certificate has its own status and a reason in words."""
    make_card, status, with_crl, words = CASES[case]
    report = _report_for(make_card(certs), _validator(certs, crl_dir if with_crl else None))
    auth = report["certificates"][0]
    assert report["card_read"] and auth["role"] == "authentication"
    assert auth["status"] == status and words in auth["reason"]
    assert (auth["revocation"] is not None) is (status in ("revoked", "revocation_unknown"))
    assert NUMBER not in json.dumps(report, ensure_ascii=False)


def test_signing_certificate_without_non_repudiation_is_bad_usage(certs: CitizenCerts, crl_dir: Path) -> None:
    """GIVEN a card whose signing certificate lacks nonRepudiation WHEN reported THEN signing is bad_usage."""
    pki = dataclasses.replace(certs.pki, citizen_sign=certs.signing_without_non_repudiation)
    report = _report_for(SimulatedIdCard(pki), _validator(certs, crl_dir))
    assert [c["status"] for c in report["certificates"]] == ["valid", "bad_usage"]
    assert "nonRepudiation" in report["certificates"][1]["reason"]


def test_prefer_policy_reports_valid_but_unchecked(certs: CitizenCerts) -> None:
    """GIVEN no CRL and revocation = "prefer" WHEN reported THEN valid, and the reason says revocation was not checked."""
    report = _report_for(SimulatedIdCard(certs.pki), _validator(certs, None, "prefer"))
    auth = report["certificates"][0]
    assert auth["status"] == "valid" and "NOT checked" in auth["reason"] and auth["revocation"]["method"] == "none"


def test_no_card_and_no_reader(certs: CitizenCerts) -> None:
    """GIVEN an empty reader, then an unplugged one WHEN reported THEN nothing was read and the report says why."""
    reader = SimulatedCardReader()
    empty = card_report(reader, reader.open_card, _validator(certs, None))
    assert not empty["card_read"] and empty["readers"][0]["card_present"] is False and empty["error"] == "no card in any reader"
    reader.unplugged = True
    gone = card_report(reader, reader.open_card, _validator(certs, None))
    assert gone["readers"] == [] and gone["error"] == "no reader attached" and gone["pcsc_answers"]


def test_unsupported_card_is_not_a_token(certs: CitizenCerts) -> None:
    """GIVEN a card with an unknown ATR WHEN reported THEN no token, not read, error CardUnsupported."""
    report = _report_for(SimulatedIdCard(certs.pki, atr=bytes.fromhex("3B8F8001")), _validator(certs, None))
    assert not report["token_present"] and not report["card_read"] and report["error"].startswith("CardUnsupported")


class DownReader:
    """A reader port whose service is down. A stand-in, not a mock of pcscd's behaviour: the real
    PcscCardReader raises the same ReaderUnavailable when pcscd is absent, but stopping the
    machine's pcscd here would disturb the pcscd tests."""

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        raise ReaderUnavailable("PC/SC service not running")

    def stop(self) -> None:
        pass

    def readers(self) -> list[ReaderInfo]:
        raise ReaderUnavailable("PC/SC service not running")


def test_reader_service_down(certs: CitizenCerts) -> None:
    """GIVEN a reader whose service does not answer WHEN reported THEN pcsc_answers is False with the reason."""
    report = card_report(DownReader(), SimulatedCardReader().open_card, _validator(certs, None))
    assert report["pcsc_answers"] is False and not report["card_read"] and "does not answer" in report["error"]


def test_mask_number() -> None:
    """GIVEN an 11-digit personal number WHEN masked THEN only the last 3 digits show."""
    assert mask_number(NUMBER) == "********083"


def test_report_through_pkcs11_on_softhsm(certs: CitizenCerts, crl_dir: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a SoftHSM2 token holding the revoked authentication certificate and a good signing one
    WHEN reported through the PKCS#11 slot reader and card opener (real SoftHSM2, no PIN)
    THEN the card is read, the holder masked, authentication revoked and signing valid."""
    from tests.fixtures.softhsm import build_citizen_tokens, softhsm_missing

    if reason := softhsm_missing():
        pytest.skip(reason)
    from hardware.pkcs11_card import Pkcs11CardOpener
    from hardware.pkcs11_module import Pkcs11Module
    from hardware.pkcs11_reader import Pkcs11SlotReader

    tokens = build_citizen_tokens(certs.with_auth(certs.revoked), tmp_path / "hsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(tokens.conf))
    module = Pkcs11Module(str(tokens.module))
    report = card_report(Pkcs11SlotReader(module), Pkcs11CardOpener(module), _validator(certs, crl_dir))
    assert report["card_read"] and report["holder"]["personal_number"] == "********083"
    assert [(c["role"], c["status"]) for c in report["certificates"]] == [("authentication", "revoked"),
                                                                         ("signing", "valid")]
