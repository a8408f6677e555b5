"""Every call but enrolment is signed: unknown kiosks, forgeries, stale dates and replays get 401, nothing stored."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import requests
from nacl.signing import SigningKey

from hub import enrolment
from protocol.sealing import PayloadSealer
from protocol.wire import HEADER_SIGNATURE, sign_request
from tests.fixtures.hub_server import RunningHub, start_hub


def _batch(make_item: Callable[..., dict[str, Any]]) -> bytes:
    return json.dumps({"items": [make_item()]}).encode()


def _post(hub: RunningHub, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{hub.url}/v1/submissions", data=body, headers=headers, timeout=10)


def _refused(answer: requests.Response, hub: RunningHub, word: str) -> None:
    assert (answer.status_code, answer.json()) == (401, {"error": word})
    assert hub.stats()["submissions"] == 0


def test_unknown_kiosk_is_401(hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN a key the hub never enrolled WHEN it posts a signed batch THEN 401 unknown_kiosk."""
    body = _batch(make_item)
    headers = sign_request(SigningKey.generate(), "k-0000000000000000", "POST", "/v1/submissions", body,
                           dt.datetime.now(dt.timezone.utc))
    _refused(_post(hub_server, body, headers), hub_server, "unknown_kiosk")


def test_forged_signature_is_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN an enrolled kiosk's id signed with another key WHEN posted THEN 401 bad_signature."""
    body = _batch(make_item)
    forged = sign_request(SigningKey.generate(), client.kiosk.kiosk_id, "POST", "/v1/submissions", body,
                          dt.datetime.now(dt.timezone.utc))
    _refused(_post(hub_server, body, forged), hub_server, "bad_signature")


def test_body_changed_after_signing_is_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN a genuine signature WHEN the body is swapped on the way THEN 401 bad_signature."""
    headers = client.kiosk.sign("POST", "/v1/submissions", _batch(make_item))
    _refused(_post(hub_server, _batch(make_item), headers), hub_server, "bad_signature")


def test_stale_date_is_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN a request signed 10 minutes ago WHEN posted THEN 401 stale_date."""
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    _refused(client.submit([make_item()], now=old), hub_server, "stale_date")


def test_replayed_request_is_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN a request the hub accepted WHEN the same bytes and headers arrive again THEN 401 replay."""
    body = _batch(make_item)
    headers = client.kiosk.sign("POST", "/v1/submissions", body)
    assert _post(hub_server, body, headers).status_code == 200
    replay = _post(hub_server, body, headers)
    assert (replay.status_code, replay.json()) == (401, {"error": "replay"})
    stats = hub_server.stats()
    assert (stats["submissions"], stats["duplicates"]) == (1, 0)


def test_missing_or_garbled_headers_are_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN no signature headers, or a signature that is not base64 WHEN posted THEN 401 missing_headers."""
    body = _batch(make_item)
    _refused(_post(hub_server, body, {}), hub_server, "missing_headers")
    garbled = {**client.kiosk.sign("POST", "/v1/submissions", body), HEADER_SIGNATURE: "%%%"}
    _refused(_post(hub_server, body, garbled), hub_server, "missing_headers")


def test_signature_for_another_path_is_401(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a request signed for /v1/statuses?since=0 WHEN sent to ?since=5 THEN 401 bad_signature."""
    headers = client.kiosk.sign("GET", "/v1/statuses?since=0")
    answer = requests.get(f"{hub_server.url}/v1/statuses?since=5", headers=headers, timeout=10)
    assert (answer.status_code, answer.json()) == (401, {"error": "bad_signature"})


def test_revoked_kiosk_is_401(client: Any, hub_server: RunningHub, make_item: Any) -> None:
    """GIVEN a kiosk revoked in the back office WHEN it posts THEN 401 unknown_kiosk."""
    assert enrolment.revoke(hub_server.store, client.kiosk.kiosk_id)
    _refused(client.submit([make_item()]), hub_server, "unknown_kiosk")


def test_nonces_are_forgotten_once_too_old_to_replay(tmp_path: Any, clock: Any, make_item: Any) -> None:
    """GIVEN a hub on a fake clock WHEN 11 minutes pass THEN old nonces are pruned, and their replay is stale anyway."""
    with start_hub(tmp_path, clock=clock.wall) as hub:
        kiosk = hub.enroll_kiosk()
        sealer = PayloadSealer(hub.seal_public_key)  # make_item seals to the fixture's hub: this is another one

        def own_item() -> dict[str, Any]:
            return make_item(sealed=base64.b64encode(sealer.seal({"name": "Nino"})).decode())

        body = json.dumps({"items": [own_item()]}).encode()
        first = kiosk.sign("POST", "/v1/submissions", body)
        assert _post(hub, body, first).status_code == 200
        clock.advance(11 * 60)
        later = json.dumps({"items": [own_item()]}).encode()
        assert _post(hub, later, kiosk.sign("POST", "/v1/submissions", later)).status_code == 200
        nonces = [r[0] for r in hub.query("SELECT nonce FROM nonces")]
        assert first["X-Kiosk-Nonce"] not in nonces and len(nonces) == 1
        replay = _post(hub, body, first)
        assert (replay.status_code, replay.json()) == (401, {"error": "stale_date"})
        assert hub.stats()["submissions"] == 2
