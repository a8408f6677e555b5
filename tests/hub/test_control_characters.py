"""Kiosk-supplied text with control characters is refused at intake, and the CLI never prints them raw."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from nacl.signing import SigningKey
from sqlalchemy import insert

from entrypoints.cli import main
from hub import schema
from protocol.sealing import PayloadSealer
from tests.fixtures.hub_server import RunningHub

HOSTILE = ["\x1b[2J", "\x1b]0;pwned\x07", "a\x00b", "a\nb", "a\tb", "a\x7fb", "a\x85b", "\x9b31m", "a\u202eb",
           "a\u202ab", "a\u2066b", "a\u2069b"]
RAW = ["\x1b", "\x00", "\x07", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["receipt_no", "service", "citizen_key"])
def test_control_characters_in_an_item_reject_that_item(client: Any, make_item: Any, hub_server: RunningHub,
                                                        field: str, text: str) -> None:
    """GIVEN a batch where one item's text field holds a control character WHEN posted THEN that item is
    rejected naming the field, and the good item beside it is accepted."""
    bad, good = make_item(**{field: "K1" + text}), make_item()
    answer = client.submit([bad, good])
    assert answer.status_code == 200
    assert answer.json()["results"] == [{"id": bad["id"], "result": "rejected", "reason": f"invalid:{field}"},
                                        {"id": good["id"], "result": "accepted"}]
    assert hub_server.stats()["submissions"] == 1


def test_ordinary_georgian_and_punctuation_are_accepted(client: Any, make_item: Any) -> None:
    """GIVEN Georgian letters, spaces and punctuation in text fields WHEN posted THEN accepted."""
    item = make_item(receipt_no="K1-261121-0001", service="სამოქალაქო რეესტრი: დაბადება (ასლი)")
    assert client.submit([item]).json()["results"][0]["result"] == "accepted"


@pytest.mark.parametrize("text", HOSTILE)
def test_control_characters_in_a_heartbeat_are_400(client: Any, hub_server: RunningHub, text: str) -> None:
    """GIVEN a heartbeat whose printer, extra field or queue key holds a control character WHEN sent THEN 400."""
    for beat in ({"version": "1", "printer": text}, {"version": "1", "note": {"deep": [text]}},
                 {"version": "1", "queue": {text: 1}}):
        answer = client.call("POST", "/v1/heartbeat", json.dumps(beat).encode())
        assert (answer.status_code, answer.json()) == (400, {"error": "bad_schema"})
    assert hub_server.count("heartbeats") == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_control_characters_in_an_enrolment_name_are_400(hub_server: RunningHub, text: str) -> None:
    """GIVEN an enrolment whose kiosk name holds a control character WHEN posted THEN 400 and no kiosk."""
    answer = requests.post(f"{hub_server.url}/v1/enroll", timeout=10, json={
        "code": hub_server.enroll_code(), "name": "Sno" + text,
        "device_public_key": base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()})
    assert (answer.status_code, answer.json()) == (400, {"error": "bad_schema"})
    assert hub_server.stats()["kiosks"] == 0


def _old_rows(hub: RunningHub) -> str:
    """Rows a hub stored before intake refused control characters (written straight to the database)."""
    sealed = PayloadSealer(hub.seal_public_key).seal({"name": "Nino\x1b[2J\u202e", "note": "\x9b31m"})
    sid = "00000000-0000-4000-8000-000000000001"
    with hub.store.write() as db:
        db.execute(insert(schema.kiosks).values({"id": "k-evil", "verify_key": b"v" * 32, "name": "Sno\x1b]0;pwned\x07",
                                   "enrolled_at": "2026-11-21T10:00:00+00:00", "revoked": 0}))
        db.execute(insert(schema.heartbeat_latest).values({"kiosk_id": "k-evil", "received_at": "2026-11-21T10:00:00+00:00",
                                             "version": "1\u2066", "queue_depth": 0, "printer": "ok\x1b[31m",
                                             "reader": "\x85", "body": json.dumps({"audit_checkpoint": "\x9b"})}))
        db.execute(insert(schema.submissions).values({
            "id": sid, "kiosk_id": "k-evil", "receipt_no": "K1\x1b[2J\x7f", "service": "x\u202egnp.exe",
            "created_at": "2026-11-21T10:00:00+04:00", "citizen": None, "synthetic": 0, "sealed": sealed,
            "received_at": "2026-11-21T10:00:00+00:00", "state": "rejected", "reason": "\x1b[8m\u2069",
            "changed_at": "2026-11-21T10:00:00+00:00", "status_seq": None}))
    return sid


def test_cli_escapes_control_characters_of_old_rows(hub_server: RunningHub, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN rows stored with control characters WHEN list, open and fleet print them (table and JSON)
    THEN no control character reaches the terminal, each is shown escaped, and JSON still parses."""
    sid = _old_rows(hub_server)
    db = hub_server.cli_args()
    outputs = {}
    for argv in (["list"], ["list", "--json"], ["open", sid], ["fleet"], ["fleet", "--json"]):
        code, out = _run(capsys, "hub", *argv[:1], *db, *argv[1:])
        assert code == 0, out
        leaked = [ch for ch in RAW if ch in out]
        assert not leaked, (argv, leaked)
        outputs[" ".join(argv)] = out
    assert "\\x1b[2J" in outputs["list"] and "\\u202e" in outputs["list"]
    assert "\\x1b]0;pwned\\x07" in outputs["fleet"]
    assert json.loads(outputs["list --json"])["submissions"][0]["receipt_no"] == "K1\x1b[2J\x7f"
    assert json.loads(outputs[f"open {sid}"])["payload"] == {"name": "Nino\x1b[2J\u202e", "note": "\x9b31m"}
    assert json.loads(outputs["fleet --json"])["kiosks"][0]["name"] == "Sno\x1b]0;pwned\x07"
