"""The kiosk's card authentication pipeline on a SoftHSM2 token, against bare python-pkcs11 log in + sign.

Ours, per run, as the journey does it: open the card (find its tokens, read both certificates
without a PIN), parse and validate the authentication certificate to the demo trust anchors
with ``kiosk.identity.CertificateValidator`` and a CRL bundle (``revocation = "require"``, the
authentication CA's CRL listing ``--crl-entries`` other serials; OCSP off, no network), read the
PIN status, log in with the PIN, have the card sign a fresh 32-byte challenge and verify it
(``prove_possession``). Bare, per run, on the same token: ``token.open(user_pin=...)``, find the
private key, sign the challenge with CKM_SHA256_RSA_PKCS, close — nothing else. Runs alternate
so both see the same machine load; medians of ``--runs`` (>= 30).

Run from anywhere: ``python bench/bench_auth.py [--runs N]``; prints JSON.
Goal (issue 3): host-side overhead (ours - bare) <= 25 ms median and ours <= 3x bare.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

from hardware.demo_pki import load_or_make_demo_pki, make_crl, write_crl
from hardware.pkcs11_card import Pkcs11CardOpener
from hardware.pkcs11_module import Pkcs11Module
from kiosk.clock import utc_now
from kiosk.identity import CertificateValidator, parse_certificate, prove_possession
from kiosk.ports import PinKind, ReaderInfo
from kiosk.revocation import RevocationChecker
from protocol.certificates import load_trust_anchors
from tests.fixtures.softhsm import AUTH_KEY_ID, AUTH_PIN, build_citizen_tokens, softhsm_missing

GOAL_OVERHEAD_MS = 25.0
GOAL_RATIO = 3.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def measure(runs: int, crl_entries: int) -> dict[str, object]:
    """Time both pipelines ``runs`` times each, alternating; medians and goals as a dict."""
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        return _measure(Path(tmp), runs, crl_entries)


def _measure(work: Path, runs: int, crl_entries: int) -> dict[str, object]:
    import pkcs11

    now = utc_now()
    pki = load_or_make_demo_pki(work / "pki", now)
    tokens = build_citizen_tokens(pki, work / "softhsm")
    os.environ["SOFTHSM2_CONF"] = str(tokens.conf)
    anchors = load_trust_anchors(pki.write_trust_anchors(work / "anchors"))
    others = [SimpleNamespace(serial_number=secrets.randbits(120)) for _ in range(crl_entries)]
    write_crl(work / "crl", "auth-ca", make_crl(pki.auth_ca, others, this_update=now))  # type: ignore[arg-type]
    write_crl(work / "crl", "sign-ca", make_crl(pki.sign_ca, [], this_update=now))
    clock = utc_now
    validator = CertificateValidator(
        anchors, clock, revocation=RevocationChecker(work / "crl", clock=clock, use_ocsp=False), policy="require"
    )
    module = Pkcs11Module(str(tokens.module))
    opener = Pkcs11CardOpener(module)
    reader = ReaderInfo("SoftHSM", False, True)
    bare_token = pkcs11.lib(str(tokens.module)).get_token(token_label=tokens.labels[0])

    stages: dict[str, list[float]] = {"open_and_read_certificates": [], "validate_with_crl": [], "pin_status": [],
                                      "login_sign_verify": []}

    def ours() -> float:
        started = time.perf_counter()
        card = opener(reader)
        der = card.certificates().authentication
        t1 = time.perf_counter()
        cert = parse_certificate(der)
        validation = validator.validate(cert)
        assert validation.revocation_checked
        t2 = time.perf_counter()
        card.pin_status(PinKind.AUTH)
        t3 = time.perf_counter()
        prove_possession(card, cert, bytearray(AUTH_PIN.encode()))
        ended = time.perf_counter()
        for name, span in zip(stages, (t1 - started, t2 - t1, t3 - t2, ended - t3), strict=True):
            stages[name].append(span)
        return ended - started

    def bare() -> float:
        challenge = secrets.token_bytes(32)
        started = time.perf_counter()
        with bare_token.open(user_pin=AUTH_PIN) as session:
            key = session.get_key(pkcs11.ObjectClass.PRIVATE_KEY, id=bytes.fromhex(AUTH_KEY_ID))
            key.sign(challenge, mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS)
        return time.perf_counter() - started

    ours(), bare()  # warm-up: CRL parse, first key use
    for stage in stages.values():
        stage.clear()
    times: dict[str, list[float]] = {"ours": [], "bare": []}
    for _ in range(runs):
        times["ours"].append(ours())
        times["bare"].append(bare())
    ours_ms = statistics.median(times["ours"]) * 1000
    bare_ms = statistics.median(times["bare"]) * 1000
    overhead = ours_ms - bare_ms
    return {
        "benchmark": "card authentication pipeline (SoftHSM2)",
        "runs": runs,
        "crl_entries": crl_entries,
        "module": str(tokens.module),
        "ours_median_ms": round(ours_ms, 3),
        "bare_login_sign_median_ms": round(bare_ms, 3),
        "overhead_median_ms": round(overhead, 3),
        "ratio": round(ours_ms / bare_ms, 2),
        "ours_stages_median_ms": {name: _ms(statistics.median(spans)) for name, spans in stages.items()},
        "ours_p90_ms": _ms(statistics.quantiles(times["ours"], n=10)[-1]),
        "bare_p90_ms": _ms(statistics.quantiles(times["bare"], n=10)[-1]),
        "goal_overhead_ms": GOAL_OVERHEAD_MS,
        "goal_ratio": GOAL_RATIO,
        "meets_goal": overhead <= GOAL_OVERHEAD_MS and ours_ms <= GOAL_RATIO * bare_ms,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the measurement as JSON; exit 2 when SoftHSM2 or python-pkcs11 is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each pipeline (at least 30)")
    parser.add_argument("--crl-entries", type=int, default=1000, help="other serials on the authentication CA's CRL")
    args = parser.parse_args(argv)
    missing = softhsm_missing()
    if missing:
        print(json.dumps({"error": missing}))
        return 2
    print(json.dumps(measure(max(30, args.runs), args.crl_entries), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
