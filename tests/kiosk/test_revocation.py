"""Revocation by CRL bundle and by a real OCSP responder on 127.0.0.1, alone and under each policy."""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

import pytest
import requests

from hardware.demo_pki import Issued, make_crl, write_crl
from kiosk.config import load_settings
from kiosk.identity import CertificateRevoked, CertificateValidator, RevocationUnknown
from kiosk.revocation import RevocationChecker, RevocationMethod, RevocationStatus
from tests.fixtures.citizen_pki import CitizenCerts, make_citizen_certs
from tests.fixtures.clock import WORLD_NOW
from tests.fixtures.ocsp_responder import OcspResponder

NOW = WORLD_NOW  # the test world's clock
HOUR = dt.timedelta(hours=1)
GOOD, REVOKED, UNKNOWN = RevocationStatus.GOOD, RevocationStatus.REVOKED, RevocationStatus.UNKNOWN
OCSP, CRL, NONE = RevocationMethod.OCSP, RevocationMethod.CRL, RevocationMethod.NONE


@pytest.fixture(scope="module")
def certs() -> CitizenCerts:
    return make_citizen_certs(NOW)


@pytest.fixture(scope="module")
def responder(certs: CitizenCerts):
    server = OcspResponder(certs.pki.auth_ca, impostor=certs.foreign.auth_ca).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _answering(request: pytest.FixtureRequest) -> None:
    """Each test starts with a responder that answers normally."""
    if "responder" in request.fixturenames:
        request.getfixturevalue("responder").mode = "answer"


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/ocsp"


def _issue(certs: CitizenCerts, url: str | None) -> Issued:
    return certs.pki.issue_citizen(now=NOW, ocsp_url=url)


def _checker(crl_dir: Path | None, session: requests.Session | None = None, timeout_s: float = 2.0,
             at: dt.datetime = NOW, max_age_h: float = 72) -> RevocationChecker:
    return RevocationChecker(crl_dir, clock=lambda: at, crl_max_age=dt.timedelta(hours=max_age_h),
                             ocsp_timeout_s=timeout_s, session=session)


def _crls(certs: CitizenCerts, folder: Path, revoked: list[Issued], **kwargs: object) -> Path:
    write_crl(folder, "auth-ca", certs.crl(revoked, **kwargs))
    return folder


# -- CRL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pem", [False, True], ids=["der", "pem"])
def test_fresh_crl_decides(certs: CitizenCerts, tmp_path: Path, pem: bool) -> None:
    """GIVEN a fresh CRL (DER or PEM) listing one certificate WHEN both are checked
    THEN the listed one is revoked and the other good, both by CRL."""
    certs.write_crls(tmp_path, pem=pem, this_update=NOW - HOUR)
    checker = _checker(tmp_path)
    issuer = certs.pki.auth_ca.cert
    good, revoked = checker.check(certs.good.cert, issuer), checker.check(certs.revoked.cert, issuer)
    assert (good.status, good.method) == (GOOD, CRL)
    assert (revoked.status, revoked.method) == (REVOKED, CRL) and revoked.revoked_at is not None
    assert "GEO Authentication CA" in revoked.reason


@pytest.mark.parametrize(
    ("next_update_ago_h", "status"),
    [(-1, GOOD), (71, GOOD), (73, UNKNOWN)],
    ids=["before-next-update", "within-grace", "past-grace"],
)
def test_crl_counts_until_next_update_plus_max_age(certs: CitizenCerts, tmp_path: Path, next_update_ago_h: float,
                                                   status: RevocationStatus) -> None:
    """GIVEN a CRL whose nextUpdate was some hours ago and crl_max_age_h = 72 WHEN checked
    THEN it counts up to 72 h past nextUpdate and not after."""
    next_update = NOW - dt.timedelta(hours=next_update_ago_h)
    _crls(certs, tmp_path, [], this_update=next_update - dt.timedelta(days=7), next_update=next_update)
    result = _checker(tmp_path).check(certs.good.cert, certs.pki.auth_ca.cert)
    assert result.status is status
    if status is UNKNOWN:
        assert result.method is NONE and "too old" in result.reason


def test_crl_signed_by_another_key_does_not_count(certs: CitizenCerts, tmp_path: Path) -> None:
    """GIVEN a CRL in the authentication CA's name but signed by the foreign CA's key
    WHEN a revoked certificate is checked THEN the status is unknown, saying the signature is wrong."""
    forged = make_crl(certs.pki.auth_ca, [certs.revoked.cert], this_update=NOW,
                      signing_key=certs.foreign.auth_ca.key)
    write_crl(tmp_path, "forged", forged)
    result = _checker(tmp_path).check(certs.revoked.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (UNKNOWN, NONE) and "not signed by its key" in result.reason


def test_newest_good_crl_wins_over_an_older_one(certs: CitizenCerts, tmp_path: Path) -> None:
    """GIVEN an old CRL without the certificate and a newer one listing it WHEN checked THEN revoked."""
    write_crl(tmp_path, "old", certs.crl([], this_update=NOW - 10 * HOUR))
    write_crl(tmp_path, "new", certs.crl([certs.revoked], this_update=NOW - HOUR))
    assert _checker(tmp_path).check(certs.revoked.cert, certs.pki.auth_ca.cert).status is REVOKED


@pytest.mark.parametrize("folder", ["missing", "empty", "other-ca-only", "garbage"])
def test_no_usable_crl_means_unknown(certs: CitizenCerts, tmp_path: Path, folder: str) -> None:
    """GIVEN no CRL from the issuer (no folder, empty, only another CA's, a garbage file)
    WHEN checked THEN unknown by no method, with the reason."""
    crl_dir = tmp_path / "crls"
    if folder != "missing":
        crl_dir.mkdir()
    if folder == "other-ca-only":
        write_crl(crl_dir, "sign-ca", make_crl(certs.pki.sign_ca, [], this_update=NOW))
    if folder == "garbage":
        (crl_dir / "broken.crl").write_bytes(b"not a crl")
    result = _checker(crl_dir).check(certs.good.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (UNKNOWN, NONE)
    assert "no CRL from GEO Authentication CA" in result.reason and "names no OCSP responder" in result.reason


def test_replaced_crl_file_is_read_again(certs: CitizenCerts, tmp_path: Path) -> None:
    """GIVEN a CRL folder already read WHEN the hub's sync replaces the CRL with one listing the
    certificate THEN the next check sees it revoked."""
    checker = _checker(tmp_path)
    _crls(certs, tmp_path, [], this_update=NOW - 2 * HOUR)
    assert checker.check(certs.revoked.cert, certs.pki.auth_ca.cert).status is GOOD
    _crls(certs, tmp_path, [certs.revoked], this_update=NOW - HOUR)
    assert checker.check(certs.revoked.cert, certs.pki.auth_ca.cert).status is REVOKED


# -- OCSP --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "status"),
    [("good", GOOD), ("revoked", REVOKED)],
)
def test_ocsp_answers_first(certs: CitizenCerts, responder: OcspResponder, session: requests.Session,
                            tmp_path: Path, listed: str, status: RevocationStatus) -> None:
    """GIVEN a certificate naming the responder and a CRL that says the opposite WHEN checked
    THEN the responder's answer decides."""
    issued = _issue(certs, responder.url)
    responder.statuses[issued.cert.serial_number] = listed
    _crls(certs, tmp_path, [issued] if listed == "good" else [], this_update=NOW - HOUR)
    result = _checker(tmp_path, session).check(issued.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (status, OCSP)


def test_ocsp_unknown_is_not_made_good_by_the_crl(certs: CitizenCerts, responder: OcspResponder,
                                                  session: requests.Session, tmp_path: Path) -> None:
    """GIVEN a responder that does not know the certificate and a CRL not listing it
    WHEN checked THEN unknown by OCSP; when the CRL lists it THEN revoked by CRL."""
    issued = _issue(certs, responder.url)
    _crls(certs, tmp_path, [], this_update=NOW - HOUR)
    result = _checker(tmp_path, session).check(issued.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (UNKNOWN, OCSP) and "does not know" in result.reason
    _crls(certs, tmp_path, [issued], this_update=NOW - HOUR / 2)
    assert _checker(tmp_path, session).check(issued.cert, certs.pki.auth_ca.cert).status is REVOKED


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("garbage", "not an OCSP response"),
        ("try_later", "try_later"),
        ("wrong_signer", "signature does not verify"),
        ("stale", "stale"),
        ("other_serial", "about another certificate"),
        ("bad_nonce", "another request's nonce"),
    ],
)
def test_untrustworthy_ocsp_answers_fall_back_to_the_crl(certs: CitizenCerts, responder: OcspResponder,
                                                         session: requests.Session, tmp_path: Path,
                                                         mode: str, words: str) -> None:
    """GIVEN a responder that answers garbage, "try later", with a forged signature, a stale answer,
    an answer about another certificate or with a replayed nonce (each saying "good")
    WHEN checked THEN its answer is ignored and the CRL decides: revoked."""
    issued = _issue(certs, responder.url)
    responder.statuses[issued.cert.serial_number] = "good"
    responder.mode = mode  # type: ignore[assignment]
    _crls(certs, tmp_path, [issued], this_update=NOW - HOUR)
    result = _checker(tmp_path, session).check(issued.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (REVOKED, CRL) and words in result.reason


def test_delegated_responder_is_accepted(certs: CitizenCerts, session: requests.Session) -> None:
    """GIVEN a responder certificate the CA issued with id-kp-OCSPSigning WHEN it signs the answer
    THEN the answer counts."""
    delegate = certs.pki.issue_ocsp_responder(certs.pki.auth_ca)
    server = OcspResponder(certs.pki.auth_ca, signer=delegate).start()
    try:
        issued = _issue(certs, server.url)
        server.statuses[issued.cert.serial_number] = "revoked"
        result = _checker(None, session).check(issued.cert, certs.pki.auth_ca.cert)
    finally:
        server.stop()
    assert (result.status, result.method) == (REVOKED, OCSP)


def test_responder_down_falls_back_to_the_crl(certs: CitizenCerts, session: requests.Session, tmp_path: Path) -> None:
    """GIVEN a certificate naming a responder nobody listens for WHEN checked THEN the CRL decides."""
    issued = _issue(certs, _closed_port_url())
    _crls(certs, tmp_path, [], this_update=NOW - HOUR)
    result = _checker(tmp_path, session).check(issued.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (GOOD, CRL) and "unreachable" in result.reason


def test_stalled_responder_times_out_then_the_crl_decides(certs: CitizenCerts, responder: OcspResponder,
                                                          session: requests.Session, tmp_path: Path) -> None:
    """GIVEN a responder that accepts the request and never answers, ocsp_timeout_s = 0.5
    WHEN checked THEN the check gives up after about 0.5 s and the CRL decides."""
    issued = _issue(certs, responder.url)
    responder.statuses[issued.cert.serial_number] = "good"
    responder.mode = "stall"
    _crls(certs, tmp_path, [issued], this_update=NOW - HOUR)
    started = time.monotonic()
    result = _checker(tmp_path, session, timeout_s=0.5).check(issued.cert, certs.pki.auth_ca.cert)
    elapsed = time.monotonic() - started
    assert (result.status, result.method) == (REVOKED, CRL) and "no answer within 0.5 s" in result.reason
    assert 0.4 < elapsed < 1.5


# -- the validator's policy over both ----------------------------------------------------------

SCENARIOS = {
    # name: (responder status or None for "down", CRL lists it?, CRL present?)
    "ocsp-good": ("good", False, False),
    "ocsp-revoked": ("revoked", False, False),
    "ocsp-unknown": ("", False, True),
    "down-crl-good": (None, False, True),
    "down-crl-revoked": (None, True, True),
    "down-no-crl": (None, False, False),
}
EXPECTED = {  # (scenario, policy) -> method the result names, or the error raised
    ("ocsp-good", "require"): OCSP, ("ocsp-good", "prefer"): OCSP, ("ocsp-good", "off"): NONE,
    ("ocsp-revoked", "require"): CertificateRevoked, ("ocsp-revoked", "prefer"): CertificateRevoked,
    ("ocsp-revoked", "off"): NONE,
    ("ocsp-unknown", "require"): RevocationUnknown, ("ocsp-unknown", "prefer"): OCSP, ("ocsp-unknown", "off"): NONE,
    ("down-crl-good", "require"): CRL, ("down-crl-good", "prefer"): CRL, ("down-crl-good", "off"): NONE,
    ("down-crl-revoked", "require"): CertificateRevoked, ("down-crl-revoked", "prefer"): CertificateRevoked,
    ("down-crl-revoked", "off"): NONE,
    ("down-no-crl", "require"): RevocationUnknown, ("down-no-crl", "prefer"): NONE, ("down-no-crl", "off"): NONE,
}


@pytest.mark.parametrize(("scenario", "policy"), list(EXPECTED), ids=[f"{s}-{p}" for s, p in EXPECTED])
def test_policy_over_ocsp_and_crl(certs: CitizenCerts, responder: OcspResponder, session: requests.Session,
                                  tmp_path: Path, scenario: str, policy: str) -> None:
    """GIVEN a revocation situation and a policy WHEN the validator runs THEN it passes naming the
    method, or refuses with the policy's error ("prefer" lets only unknown through, "off" everything)."""
    listed, crl_lists, crl_present = SCENARIOS[scenario]
    issued = _issue(certs, responder.url if listed is not None else _closed_port_url())
    if listed:
        responder.statuses[issued.cert.serial_number] = listed
    if crl_present:
        _crls(certs, tmp_path, [issued] if crl_lists else [], this_update=NOW - HOUR)
    checker = _checker(tmp_path if crl_present else None, session)
    validator = CertificateValidator(certs.anchors, lambda: NOW, revocation=checker, policy=policy)
    expected = EXPECTED[(scenario, policy)]
    if isinstance(expected, type):
        with pytest.raises(expected):
            validator.validate(issued.cert)
        return
    result = validator.validate(issued.cert)
    assert result.revocation.method is expected
    assert result.revocation_checked is (expected is not NONE and result.revocation.status is GOOD)


@pytest.mark.parametrize("configured", [True, False], ids=["crl_dir", "default-data-dir-crl"])
def test_checker_from_settings_reads_the_configured_folder(certs: CitizenCerts, tmp_path: Path, configured: bool) -> None:
    """GIVEN KIOSK_CARD_CRL_DIR (or none: <data_dir>/crl, where the hub's sync writes) holding a CRL
    listing a certificate WHEN the checker built from settings checks it THEN revoked by CRL."""
    folder = tmp_path / "crls" if configured else tmp_path / "data" / "crl"
    _crls(certs, folder, [certs.revoked], this_update=NOW - HOUR)
    env = {"KIOSK_KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CARD_CRL_MAX_AGE_H": "1"}
    if configured:
        env["KIOSK_CARD_CRL_DIR"] = str(folder)
    checker = RevocationChecker.from_settings(load_settings(None, env=env), lambda: NOW)
    result = checker.check(certs.revoked.cert, certs.pki.auth_ca.cert)
    assert (result.status, result.method) == (REVOKED, CRL)
