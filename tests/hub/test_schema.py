"""One schema on two engines: Alembic's migrations make exactly what the queries are written against,
a hub made before Alembic is adopted without losing a row, and ``kiosk hub migrate-db`` moves a pilot's
SQLite hub onto PostgreSQL whole."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from hub import backoffice
from hub.keys import KeyFiles
from hub.models import HubState
from hub.schema import metadata
from hub.store import HubDatabase
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.postgres import PostgresCluster
from tests.hub.conftest import SignedClient
from tests.hub.legacy_hub import make_legacy_hub

REPO = Path(__file__).resolve().parents[2]


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(REPO / "hub" / "migrations"))
    return str(ScriptDirectory.from_config(config).get_current_head())


def _differences(store: HubDatabase) -> list[Any]:
    with store.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def _same_to_sqlite(difference: Any) -> bool:
    """A difference SQLite does not act on: INTEGER and BIGINT, REAL and FLOAT share an affinity, and the old
    tables' TEXT primary keys were declared without NOT NULL (the hub never wrote a NULL key)."""
    [(kind, *rest)] = difference if isinstance(difference, list) else [difference]
    if kind == "modify_type":
        return (str(rest[4]), str(rest[5])) in {("INTEGER", "BIGINT"), ("REAL", "FLOAT")}
    return kind == "modify_nullable" and rest[5] is False


def test_migrations_make_the_schema_the_queries_use(hub_server: RunningHub) -> None:
    """GIVEN a new database on this engine WHEN the migrations ran THEN it has every table, column, key and index
    of hub/schema.py and nothing else (Alembic's own comparison finds no difference)."""
    assert _differences(hub_server.store) == []


def test_a_hub_made_before_alembic_is_adopted_with_every_row(tmp_path: Path) -> None:
    """GIVEN a pilot hub made by the sqlite-utils migrations, holding a kiosk, a request, a re-send and a status
    WHEN the new hub opens it THEN it is stamped at the baseline, upgraded, matches the schema, and keeps every row
    under the new (kiosk, id) key: the status number continues after the old ones."""
    path = tmp_path / "hub.db"
    legacy = make_legacy_hub(path)
    legacy.table("kiosks").insert({"id": "k-1", "verify_key": b"k" * 32, "name": "Sno", "enrolled_at": "2026-01-01",
                                   "revoked": 0})
    legacy.table("submissions").insert({
        "id": "00000000-0000-4000-8000-000000000001", "kiosk_id": "k-1", "receipt_no": "K1-1", "service": "s",
        "created_at": "2026-01-01T10:00:00+04:00", "citizen_key": "ab", "synthetic": 0, "sealed": b"x" * 60,
        "received_at": "2026-01-01T06:00:00+00:00", "state": "closed", "reason": None,
        "changed_at": "2026-01-02T06:00:00+00:00", "status_seq": 7})
    legacy.table("duplicates").insert({"submission_id": "00000000-0000-4000-8000-000000000001", "kiosk_id": "k-1",
                                       "count": 2, "last_at": "2026-01-03T06:00:00+00:00"})
    legacy.conn.commit()
    legacy.conn.close()

    store = HubDatabase(path)
    assert [d for d in _differences(store) if not _same_to_sqlite(d)] == []
    with store.read() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert db.execute(text("SELECT kiosk_id, id, state, status_seq FROM submissions")).one() == (
            "k-1", "00000000-0000-4000-8000-000000000001", "closed", 7)
    assert backoffice.stats(store)["duplicates"] == 2
    backoffice.set_status(store, "00000000-0000-4000-8000-000000000001", HubState.REJECTED, "gone")
    with store.read() as db:
        assert db.execute(text("SELECT status_seq FROM submissions")).scalar() == 8
    store.close()


def _pilot(tmp_path: Path, make_item: Any) -> tuple[RunningHub, SignedClient, list[dict[str, Any]]]:
    import requests

    hub = start_hub(tmp_path / "pilot")
    client = SignedClient(hub, hub.enroll_kiosk("Sno"), requests.Session())
    items = [make_item(hub) for _ in range(30)]
    client.submit(items)
    client.submit(items[:3])  # re-sends: duplicates
    backoffice.set_status(hub.store, items[0]["id"], HubState.CLOSED, "ready")
    client.call("POST", "/v1/heartbeat", json.dumps({"version": "1", "audit_checkpoint": {"seq": 4, "hash": "h"}})
                .encode())
    return hub, client, items


@pytest.fixture
def item_for() -> Any:
    import datetime as dt
    import uuid

    from protocol.sealing import PayloadSealer

    def make(hub: RunningHub) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "receipt_no": "K1-1", "service": "civil_registry.birth_certificate",
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "citizen_key": "ab" * 32, "synthetic": False,
                "sealed": base64.b64encode(PayloadSealer(hub.seal_public_key).seal({"name": "Nino"})).decode()}

    return make


def test_migrate_db_moves_a_pilot_hub_onto_postgresql_whole(tmp_path: Path, item_for: Any,
                                                          postgres_cluster: PostgresCluster) -> None:
    """GIVEN a pilot SQLite hub with requests, re-sends, a status and a heartbeat WHEN `kiosk hub migrate-db` copies
    it to a new PostgreSQL database THEN every table has the same rows, the same kiosk (same key) goes on syncing
    there: its old ids are duplicates, its statuses cursor continues, a new status gets the next number; and a
    second copy onto the now full database is refused."""
    pilot, client, items = _pilot(tmp_path, item_for)
    cursor = client.call("GET", "/v1/statuses?since=").json()["cursor"]
    before = {t: pilot.count(t) for t in ("kiosks", "submissions", "duplicates", "heartbeats", "audit_heads",
                                           "enrol_codes", "nonces", "counters")}
    pilot.stop()
    target = postgres_cluster.create_database()
    moved = subprocess.run([sys.executable, "-m", "entrypoints", "hub", "migrate-db", "--from", str(pilot.db_path),
                            "--to", target], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert moved.returncode == 0, moved.stderr
    assert "counts checked" in moved.stdout

    with start_hub(tmp_path / "fleet", db_url=target, key_files=KeyFiles.beside(pilot.db_path)) as fleet:
        assert {t: fleet.count(t) for t in before} == before
        client.hub = fleet
        assert [r["result"] for r in client.submit(items[:5]).json()["results"]] == ["duplicate"] * 5
        backoffice.set_status(fleet.store, items[1]["id"], HubState.CLOSED)
        changes = client.call("GET", f"/v1/statuses?since={cursor}").json()["statuses"]
        assert [c["id"] for c in changes] == [items[1]["id"]]
        again = subprocess.run([sys.executable, "-m", "entrypoints", "hub", "migrate-db", "--from",
                                str(pilot.db_path), "--to", target], cwd=REPO, capture_output=True, text=True,
                               timeout=120)
        assert again.returncode == 1 and "not empty" in again.stderr
