"""Enrolment over HTTP: a one-time code buys a kiosk id and the hub's keys, once."""

from __future__ import annotations

import base64
import datetime as dt

import requests
from nacl.signing import SigningKey

from hub import enrolment
from tests.fixtures.hub_server import RunningHub


def _enrol(hub: RunningHub, code: str, key: SigningKey) -> requests.Response:
    return requests.post(f"{hub.url}/v1/enroll", timeout=10, json={
        "code": code, "name": "Ushguli", "device_public_key": base64.b64encode(bytes(key.verify_key)).decode()})


def test_good_code_enrols_and_hands_out_the_hub_keys(hub_server: RunningHub) -> None:
    """GIVEN a fresh code WHEN a kiosk enrols with it THEN 201 with its id and both hub public keys."""
    answer = _enrol(hub_server, hub_server.enroll_code(), SigningKey.generate())
    assert answer.status_code == 201
    body = answer.json()
    assert body["kiosk_id"].startswith("k-")
    assert base64.b64decode(body["hub_seal_public_key"]) == hub_server.seal_public_key
    assert base64.b64decode(body["hub_sign_public_key"]) == bytes(hub_server.verify_key)


def test_code_typed_in_lower_case_without_dashes_works(hub_server: RunningHub) -> None:
    """GIVEN a code WHEN typed in lower case without its dashes THEN it is the same code."""
    code = hub_server.enroll_code().replace("-", "").lower()
    assert _enrol(hub_server, code, SigningKey.generate()).status_code == 201


def test_spent_code_is_refused_for_another_kiosk(hub_server: RunningHub) -> None:
    """GIVEN a code one kiosk spent WHEN a second kiosk uses it THEN 403 bad_code."""
    code = hub_server.enroll_code()
    assert _enrol(hub_server, code, SigningKey.generate()).status_code == 201
    second = _enrol(hub_server, code, SigningKey.generate())
    assert (second.status_code, second.json()) == (403, {"error": "bad_code"})


def test_same_kiosk_asking_again_gets_the_same_id(hub_server: RunningHub) -> None:
    """GIVEN an answer lost on a bad link WHEN the same device asks again with its code THEN the same id."""
    code, key = hub_server.enroll_code(), SigningKey.generate()
    first, again = _enrol(hub_server, code, key), _enrol(hub_server, code, key)
    assert again.status_code == 201 and again.json()["kiosk_id"] == first.json()["kiosk_id"]
    assert hub_server.stats()["kiosks"] == 1


def test_unknown_and_expired_codes_are_refused(hub_server: RunningHub) -> None:
    """GIVEN a made-up code and an expired one WHEN used THEN 403 bad_code and no kiosk enrolled."""
    expired = enrolment.make_code(hub_server.store, dt.timedelta(seconds=-1))
    for code in ("AAAA-BBBB-CCCC", expired):
        answer = _enrol(hub_server, code, SigningKey.generate())
        assert (answer.status_code, answer.json()) == (403, {"error": "bad_code"})
    assert hub_server.stats()["kiosks"] == 0


def test_revoked_kiosk_cannot_enrol_again(hub_server: RunningHub) -> None:
    """GIVEN a revoked (stolen) kiosk WHEN it enrols again with a new code THEN 403 revoked."""
    key = SigningKey.generate()
    kiosk_id = _enrol(hub_server, hub_server.enroll_code(), key).json()["kiosk_id"]
    assert enrolment.revoke(hub_server.store, kiosk_id)
    answer = _enrol(hub_server, hub_server.enroll_code(), key)
    assert (answer.status_code, answer.json()) == (403, {"error": "revoked"})


def test_bad_enrolment_body_is_400(hub_server: RunningHub) -> None:
    """GIVEN a body that is not JSON, or a key that is not 32 bytes WHEN posted THEN 400."""
    garbage = requests.post(f"{hub_server.url}/v1/enroll", data=b"{nope", timeout=10)
    short_key = requests.post(f"{hub_server.url}/v1/enroll", timeout=10, json={
        "code": hub_server.enroll_code(), "device_public_key": base64.b64encode(b"short").decode()})
    assert (garbage.status_code, garbage.json()) == (400, {"error": "malformed_json"})
    assert (short_key.status_code, short_key.json()) == (400, {"error": "bad_schema"})
