"""The real hub on loopback, an enrolled kiosk, and a way to send it signed requests."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from hub.store import HubDatabase
from protocol.sealing import PayloadSealer
from tests.fixtures.hub_server import EnrolledKiosk, RunningHub, start_hub
from tests.fixtures.postgres import PostgresCluster

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each hub test runs on both engines: the embedded SQLite file and a real PostgreSQL 15."""
    return str(request.param)


class HubDatabases:
    """Fresh hub databases on the test cluster, each a copy of one migrated template (a file copy on the
    server: no migrations per test), made and dropped over one kept connection."""

    TEMPLATE = "hub_template"

    def __init__(self, cluster: PostgresCluster) -> None:
        import psycopg

        self.cluster = cluster
        HubDatabase(cluster.create_database(self.TEMPLATE)).close()  # the schema at head, once
        self.conn = psycopg.connect(host="127.0.0.1", port=cluster.port, user=cluster.superuser, dbname="postgres",
                                    autocommit=True)

    def create(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}"')
        return self.cluster.url(name)

    def drop(self, url: str) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def hub_databases(postgres_cluster: PostgresCluster) -> Iterator[HubDatabases]:
    """Where each PostgreSQL hub test gets its database."""
    made = HubDatabases(postgres_cluster)
    yield made
    made.conn.close()


@pytest.fixture
def hub_db_url(engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test, or None for SQLite (a file in the test's folder)."""
    if engine == "sqlite":
        yield None
        return
    databases: HubDatabases = request.getfixturevalue("hub_databases")
    url = databases.create()
    yield url
    databases.drop(url)


@pytest.fixture
def hub_server(tmp_path: Any, hub_db_url: str | None) -> Iterator[RunningHub]:
    """The real hub on loopback, on this test's engine."""
    with start_hub(tmp_path / "hub", db_url=hub_db_url) as hub:
        yield hub


@dataclass
class SignedClient:
    """Sends requests signed by one enrolled kiosk, the way a kiosk's sync engine does."""

    hub: RunningHub
    kiosk: EnrolledKiosk
    session: requests.Session

    def call(self, method: str, path: str, body: bytes = b"", *, gzipped: bool = False,
             headers: dict[str, str] | None = None, now: dt.datetime | None = None) -> requests.Response:
        """Sign ``body`` as it goes on the wire (gzipped if asked) and send it."""
        wire = gzip.compress(body) if gzipped else body
        sent = {**self.kiosk.sign(method, path, wire, now), **(headers or {})}
        if body:
            sent["Content-Type"] = "application/json"
        if gzipped:
            sent["Content-Encoding"] = "gzip"
        return self.session.request(method, self.hub.url + path, data=wire, headers=sent, timeout=10)

    def submit(self, items: list[Any], **kwargs: Any) -> requests.Response:
        """POST one batch of submissions."""
        return self.call("POST", "/v1/submissions", json.dumps({"items": items}).encode(), **kwargs)


@pytest.fixture
def client(hub_server: RunningHub) -> SignedClient:  # noqa: F811  (the imported fixture)
    """A kiosk enrolled with the running hub."""
    with requests.Session() as session:
        yield SignedClient(hub_server, hub_server.enroll_kiosk("Sno community centre"), session)


@pytest.fixture
def make_item(hub_server: RunningHub) -> Callable[..., dict[str, Any]]:
    """A well-formed submission item sealed to the hub's key; keyword arguments override fields."""
    sealer = PayloadSealer(hub_server.seal_public_key)

    def make(**overrides: Any) -> dict[str, Any]:
        item = {
            "id": str(uuid.uuid4()), "receipt_no": f"K1-261121-{uuid.uuid4().int % 10_000:04d}",
            "service": "civil_registry.birth_certificate",
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "citizen_key": "ab" * 32,
            "synthetic": False,
            "sealed": base64.b64encode(sealer.seal({"name": "Nino", "personal_number": "01024056789"})).decode(),
        }
        item.update(overrides)
        return item

    return make
