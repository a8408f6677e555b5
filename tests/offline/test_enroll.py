"""Enrolment against the real reference hub on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
from pathlib import Path

import pytest
import requests

from hub import backoffice
from offline.enrollment import (
    ENROLLMENT_FILE,
    PENDING_KEY_FILE,
    AlreadyEnrolled,
    EnrollmentCodeRefused,
    NotEnrolled,
    check_hub_url,
    enroll,
    load_enrollment,
)
from offline.hub_client import HubClient, HubUnreachable
from tests.fixtures.hub_server import RunningHub


def utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _enroll(hub: RunningHub, data: Path, **kwargs: object) -> object:
    return enroll(requests.Session(), hub.url, hub.enroll_code(), data, name="KSK-0001", clock=utc, **kwargs)


def test_enrolment_pins_the_hub_keys_and_keeps_the_device_key_private(hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN a one-time code WHEN the kiosk enrols THEN it stores the hub's two keys and a 0600 device key,
    and a signed call with that identity is accepted by the hub."""
    enrollment = _enroll(hub_server, tmp_path)
    assert base64.b64decode(enrollment.hub_seal_public_key) == hub_server.seal_public_key
    assert base64.b64decode(enrollment.hub_sign_public_key) == bytes(hub_server.verify_key)
    key_file = tmp_path / enrollment.device_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    assert not (tmp_path / PENDING_KEY_FILE).exists()
    assert load_enrollment(tmp_path) == enrollment
    client = HubClient(requests.Session(), hub_server.url, enrollment.identity(tmp_path), clock=utc)
    client.heartbeat({"version": "test", "queue": {}, "printer": "ok", "reader": "ok", "ratings": {}})
    fleet = [k for k in backoffice.fleet(hub_server.store) if k["kiosk_id"] == enrollment.kiosk_id]
    assert fleet and fleet[0]["version"] == "test"


def test_re_enrolment_needs_force(hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN an enrolled kiosk WHEN it enrols again THEN it refuses without --force and nothing changes;
    with --force it gets a new identity."""
    first = _enroll(hub_server, tmp_path)
    before = (tmp_path / ENROLLMENT_FILE).read_bytes()
    with pytest.raises(AlreadyEnrolled) as caught:
        _enroll(hub_server, tmp_path)
    assert caught.value.translation_key == "error.already_enrolled"
    assert (tmp_path / ENROLLMENT_FILE).read_bytes() == before
    second = _enroll(hub_server, tmp_path, force=True)
    assert second.kiosk_id != first.kiosk_id and load_enrollment(tmp_path) == second


def test_a_bad_code_is_refused_and_nothing_is_stored(hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN a code the hub never made WHEN the kiosk enrols THEN EnrollmentCodeRefused and no enrolment file."""
    with pytest.raises(EnrollmentCodeRefused) as caught:
        enroll(requests.Session(), hub_server.url, "AAAA-BBBB-CCCC", tmp_path, name="k", clock=utc)
    assert caught.value.translation_key == "error.enroll_code_refused"
    assert load_enrollment(tmp_path) is None


def test_an_interrupted_enrolment_retries_with_the_same_key(hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN an enrolment whose answer was lost after the hub spent the code WHEN the kiosk asks again with the
    same code THEN the pending device key is reused and the hub gives the same kiosk id (not "bad_code")."""
    code = hub_server.enroll_code()
    first = enroll(requests.Session(), hub_server.url, code, tmp_path, name="k", clock=utc)
    # Simulate the lost answer: the files the kiosk would not have written yet.
    key_seed = (tmp_path / first.device_key_file).read_bytes()
    (tmp_path / ENROLLMENT_FILE).unlink()
    (tmp_path / first.device_key_file).unlink()
    (tmp_path / PENDING_KEY_FILE).write_bytes(key_seed)
    again = enroll(requests.Session(), hub_server.url, code, tmp_path, name="k", clock=utc)
    assert again.kiosk_id == first.kiosk_id


def test_an_unreachable_hub_leaves_no_enrolment(tmp_path: Path) -> None:
    """GIVEN no hub listening WHEN the kiosk enrols THEN HubUnreachable and only the pending key exists."""
    with pytest.raises(HubUnreachable):
        enroll(requests.Session(), "http://127.0.0.1:9", "CODE-CODE", tmp_path, name="k", clock=utc, timeout_s=2)
    assert load_enrollment(tmp_path) is None and (tmp_path / PENDING_KEY_FILE).exists()


def test_a_damaged_enrolment_file_is_reported(tmp_path: Path) -> None:
    """GIVEN an enrolment file that is not JSON WHEN read THEN NotEnrolled (not a crash)."""
    (tmp_path / ENROLLMENT_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(NotEnrolled):
        load_enrollment(tmp_path)
    (tmp_path / ENROLLMENT_FILE).write_text(json.dumps({"hub_url": "x"}), encoding="utf-8")
    with pytest.raises(NotEnrolled):
        load_enrollment(tmp_path)


def test_plain_http_only_to_this_machine() -> None:
    """GIVEN hub URLs WHEN checked THEN https and loopback http pass, http elsewhere needs an explicit allow."""
    assert check_hub_url("https://hub.example.ge/", False) == "https://hub.example.ge"
    assert check_hub_url("http://127.0.0.1:8000", False) == "http://127.0.0.1:8000"
    with pytest.raises(ValueError, match="https"):
        check_hub_url("http://10.0.0.5:8000", False)
    assert check_hub_url("http://10.0.0.5:8000", True) == "http://10.0.0.5:8000"
    with pytest.raises(ValueError):
        check_hub_url("ftp://hub", True)
