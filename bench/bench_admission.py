"""What the hub's admission of a request costs (hub/admission.py), against opening its sealed payload alone.

For each kind, ``--items`` requests (real payload shape, a phone number, ~1 KB sealed) go through
``Admission.check``; the peer baseline is ``open_sealed`` on the same items — the least the hub did
before (it opened payloads only for a clerk). Kinds:

* ``no_anchors``: opened and named (the citizen lookup HMAC), no proof of presence checked;
* ``same_session``: with trust anchors, every item carrying the same card session's token (the verified
  path and signature are remembered: a villager's requests arrive together);
* ``new_sessions``: with trust anchors, each item a different login (path validation and an RSA-2048
  signature check each time: the worst case, a batch from many villagers).

Runs alternate kinds so all see the same machine load; medians of ``--runs``. Prints JSON with
microseconds per item and the ratio to the baseline. ``python bench/bench_admission.py [--runs 7]``
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hub.admission import Admission  # noqa: E402
from hub.keys import ensure_keys  # noqa: E402
from hub.presence import verifier_for  # noqa: E402
from protocol.sealing import open_sealed  # noqa: E402
from tests.fixtures.citizen_pki import make_citizen_certs  # noqa: E402
from tests.fixtures.presence import card_token, request_item  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    certs = make_citizen_certs(now)
    keys = ensure_keys(Path(tempfile.mkdtemp()) / "hub.db")
    kiosk = "k-bench"
    one_login = card_token(certs.good, kiosk, now)
    items = {
        "same_session": [request_item(keys.seal_public, personal_number="01024085083", submitted_at=now,
                                      token=one_login) for _ in range(args.items)],
        "new_sessions": [request_item(keys.seal_public, personal_number="01024085083", submitted_at=now,
                                      token=card_token(certs.good, kiosk, now)) for _ in range(args.items)],
    }
    items["no_anchors"] = items["same_session"]
    sealed = [base64.b64decode(i["sealed"]) for i in items["same_session"]]
    plain = Admission(keys, None)

    def checked(kind: str) -> float:
        admission = plain if kind == "no_anchors" else Admission(keys, verifier_for(keys, certs.anchors, lambda: now))
        started = time.perf_counter()
        for item in items[kind]:
            verdict = admission.check(kiosk, item)
            assert verdict.refused is None, verdict.refused
        return (time.perf_counter() - started) / args.items * 1e6

    def baseline() -> float:
        started = time.perf_counter()
        for blob in sealed:
            open_sealed(keys.seal_private, blob)
        return (time.perf_counter() - started) / args.items * 1e6

    kinds = ("no_anchors", "same_session", "new_sessions")
    seen: dict[str, list[float]] = {k: [] for k in ("baseline", *kinds)}
    for _ in range(args.runs):
        seen["baseline"].append(baseline())
        for kind in kinds:
            seen[kind].append(checked(kind))
    base = statistics.median(seen["baseline"])
    print(json.dumps({
        "items_per_run": args.items, "runs": args.runs,
        "us_per_item_median": {k: round(statistics.median(v), 1) for k, v in seen.items()},
        "ratio_to_open_sealed": {k: round(statistics.median(seen[k]) / base, 2) for k in kinds},
    }, indent=1))


if __name__ == "__main__":
    main()
