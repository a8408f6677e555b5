"""``kiosk hub ...`` in the exact forms of the issue, through the real CLI entry point."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import requests

from entrypoints.cli import main
from tests.fixtures.hub_server import RunningHub, start_hub

REPO = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_init_makes_private_keys_and_never_replaces_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN no hub WHEN `kiosk hub init` runs twice THEN 0600 key files made once, public keys printed both times."""
    db = tmp_path / "hub" / "hub.db"
    code, out = _run(capsys, "hub", "init", "--db", str(db))
    assert code == 0 and "hub_seal_public_key: " in out
    seal = db.with_name("hub.db.seal.key")
    assert stat.S_IMODE(os.stat(seal).st_mode) == 0o600 and stat.S_IMODE(os.stat(db).st_mode) == 0o600
    before = seal.read_bytes()
    code, again = _run(capsys, "hub", "init", "--db", str(db))
    assert code == 0 and seal.read_bytes() == before and again == out


def test_enroll_code_stats_and_fleet(hub_server: RunningHub, client: Any, make_item: Any,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a hub with a kiosk that sent, re-sent and beat WHEN the CLI asks THEN codes work and figures add up."""
    db = hub_server.cli_args()
    code, printed = _run(capsys, "hub", "enroll-code", *db)
    assert code == 0
    enrolled = requests.post(f"{hub_server.url}/v1/enroll", timeout=10, json={
        "code": printed.strip(), "device_public_key": base64.b64encode(b"k" * 32).decode()})
    assert enrolled.status_code == 201

    items = [make_item(synthetic=True) for _ in range(3)]
    client.submit(items)
    client.submit(items[:2])
    client.call("POST", "/v1/heartbeat", json.dumps({"version": "0.1.0", "queue": {"queued": 2}}).encode())

    code, out = _run(capsys, "hub", "stats", *db, "--json")
    stats = json.loads(out)
    assert code == 0 and (stats["submissions"], stats["duplicates"], stats["synthetic"]) == (3, 2, 3)
    assert stats["states"]["received"] == 3

    code, out = _run(capsys, "hub", "fleet", *db, "--json")
    kiosks = {k["kiosk_id"]: k for k in json.loads(out)["kiosks"]}
    assert code == 0 and len(kiosks) == 2
    assert kiosks[client.kiosk.kiosk_id]["queue_depth"] == 2
    code, table = _run(capsys, "hub", "fleet", *db)
    assert code == 0 and client.kiosk.kiosk_id in table and "queue_depth" in table


def test_back_office_list_open_set_status(hub_server: RunningHub, client: Any, make_item: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a delivered request WHEN listed, opened and closed from the CLI THEN the kiosk's feed shows it closed."""
    db = hub_server.cli_args()
    item = make_item()
    client.submit([item])
    code, out = _run(capsys, "hub", "list", *db, "--state", "received", "--json")
    [row] = json.loads(out)["submissions"]
    assert code == 0 and row["id"] == item["id"] and "sealed" not in row and "01024056789" not in out

    code, out = _run(capsys, "hub", "open", *db, item["id"])
    assert code == 0 and json.loads(out)["payload"]["personal_number"] == "01024056789"

    code, _ = _run(capsys, "hub", "set-status", *db, item["id"], "closed", "--reason", "issued")
    assert code == 0
    [status] = client.call("GET", "/v1/statuses?since=0").json()["statuses"]
    assert (status["id"], status["state"], status["reason"]) == (item["id"], "closed", "issued")

    code, out = _run(capsys, "hub", "open", *db, "00000000-0000-4000-8000-000000000000")
    assert code == 1 and "no submission" in out


def test_roles_and_publishing_from_the_cli(hub_server: RunningHub, client: Any, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the CLI WHEN roles are added and a catalogue published THEN kiosks get them; bad input says why."""
    db = hub_server.cli_args()
    assert _run(capsys, "hub", "roles", *db, "add", "01001012345", "technician", "--name", "Giorgi")[0] == 0
    assert client.call("GET", "/v1/roles").json()["roles"][0]["role"] == "technician"
    code, out = _run(capsys, "hub", "roles", *db, "add", "123", "staff")
    assert code == 1 and "11 digits" in out
    catalogue = REPO / "assets" / "catalogue" / "catalogue.json"
    assert _run(capsys, "hub", "publish-catalogue", *db, str(catalogue))[0] == 0
    assert client.call("GET", "/v1/catalogue").status_code == 200
    code, out = _run(capsys, "hub", "publish-crl", *db, str(tmp_path))
    assert code == 1 and "no .crl" in out


def test_commands_on_a_missing_hub_say_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN no hub database WHEN stats is asked THEN exit 1 naming `kiosk hub init`."""
    code, out = _run(capsys, "hub", "stats", "--db", str(tmp_path / "none.db"), "--json")
    assert code == 1 and "kiosk hub init" in out


def test_serve_as_a_process_serves_the_openapi_document(tmp_path: Path) -> None:
    """GIVEN `kiosk hub serve --port 0` as a child process WHEN asked THEN it serves OpenAPI naming every endpoint."""
    with start_hub(tmp_path, in_thread=False) as hub:
        assert hub.pid is not None
        document = requests.get(f"{hub.url}/openapi.json", timeout=10).json()
        kiosk = hub.enroll_kiosk()
        assert requests.get(f"{hub.url}/v1/roles", headers=kiosk.sign("GET", "/v1/roles"), timeout=10).ok
        assert hub.stats()["kiosks"] == 1  # the test's own connection reads what the child process wrote
    assert {"/v1/enroll", "/v1/submissions", "/v1/statuses", "/v1/my-requests", "/v1/presence-nonce", "/v1/catalogue", "/v1/crl",
            "/v1/roles", "/v1/heartbeat"} <= set(document["paths"])
    batch = document["paths"]["/v1/submissions"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["properties"]["items"]["maxItems"] == 500
    assert {p["name"] for p in batch["parameters"]} >= {"X-Kiosk-Key", "X-Kiosk-Signature"}


def test_a_fleet_hub_keeps_its_keys_in_a_folder_of_their_own(tmp_path: Path, postgres_cluster: Any,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a PostgreSQL database WHEN `kiosk hub init` runs without --keys THEN exit 1 asking for a folder;
    with KIOSK_HUB_DB and KIOSK_HUB_KEYS in the environment THEN the schema is made and the keys land in a
    0700 folder as 0600 files (the password never on the command line)."""
    url = postgres_cluster.create_database()
    code, out = _run(capsys, "hub", "init", "--db", url)
    assert code == 1 and "--keys DIR" in out
    keys = tmp_path / "keys"
    monkeypatch.setenv("KIOSK_HUB_DB", url)
    monkeypatch.setenv("KIOSK_HUB_KEYS", str(keys))
    code, out = _run(capsys, "hub", "init")
    assert code == 0 and "hub_sign_public_key: " in out and "schema up to date" in out
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in keys.iterdir()} == {"seal.key": 0o600, "sign.key": 0o600}
    code, out = _run(capsys, "hub", "stats", "--json")
    assert code == 0 and json.loads(out)["submissions"] == 0


def test_several_workers_need_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a SQLite hub WHEN served with --workers 2 THEN exit 1 saying SQLite serves one process."""
    db = tmp_path / "hub.db"
    assert _run(capsys, "hub", "init", "--db", str(db))[0] == 0
    code, out = _run(capsys, "hub", "serve", "--db", str(db), "--workers", "2", "--port", "0")
    assert code == 1 and "SQLite serves one process" in out
