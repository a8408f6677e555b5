"""The catalogue in force: the bundled one, replaced by a newer valid one from the hub, never by a bad one."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kiosk.catalogue_store import CatalogueStore, CatalogueUpdate
from kiosk.services import Services
from kiosk.session import Step
from protocol.catalogue import BUNDLED_PATH, CatalogueError, load_catalogue, schema_digest

BUNDLED = json.loads(BUNDLED_PATH.read_text(encoding="utf-8"))


def hub_catalogue(version: int, *, new_title: str = "Birth record extract (new)") -> bytes:
    """The bundled catalogue as the hub would send a later edit of it."""
    data = json.loads(json.dumps(BUNDLED))
    data["version"] = version
    data["services"][0]["title"]["en"] = new_title
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def test_without_anything_from_the_hub_the_bundled_catalogue_is_in_force(tmp_path: Path) -> None:
    """GIVEN a fresh data dir WHEN the store starts THEN the bundled catalogue is in force."""
    store = CatalogueStore(tmp_path)
    assert store().version == BUNDLED["version"] and store.source == "bundled"


def test_a_newer_catalogue_from_the_hub_takes_over_and_survives_a_restart(tmp_path: Path) -> None:
    """GIVEN the bundled catalogue WHEN the hub sends a newer valid one THEN it is in force, stored whole,
    and a kiosk restarted on the same data dir starts with it."""
    store = CatalogueStore(tmp_path)
    blob = hub_catalogue(BUNDLED["version"] + 1)
    assert store.on_catalogue(blob) is CatalogueUpdate.ACCEPTED
    assert store().version == BUNDLED["version"] + 1
    assert store().service("birth_record_extract").title["en"] == "Birth record extract (new)"
    assert (tmp_path / "catalogue" / "catalogue.json").read_bytes() == blob
    assert sorted(p.name for p in (tmp_path / "catalogue").iterdir()) == [
        "catalogue.json", "schema-checked.txt"]  # no temp file left
    restarted = CatalogueStore(tmp_path)
    assert restarted().version == BUNDLED["version"] + 1 and restarted.source == "hub"


@pytest.mark.parametrize(
    "blob",
    [
        b"{\"version\": 99, \"languages\": ",  # cut off in transit
        b"\x00\x01binary",
        json.dumps({**BUNDLED, "version": 99, "languages": ["ka", "en"]}).encode(),  # against the schema
        json.dumps({**BUNDLED, "version": 99, "services": BUNDLED["services"] * 2}).encode(),  # ids repeat
    ],
)
def test_a_malformed_catalogue_from_the_hub_is_refused_and_the_old_one_kept(
    tmp_path: Path, blob: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a valid newer catalogue in force WHEN the hub sends a broken one THEN it is refused, logged,
    the catalogue in force and the stored file stay as they were."""
    store = CatalogueStore(tmp_path)
    good = hub_catalogue(BUNDLED["version"] + 1)
    store.on_catalogue(good)
    with caplog.at_level(logging.WARNING, logger="kiosk.catalogue_store"):
        assert store.on_catalogue(blob) is CatalogueUpdate.INVALID
    assert "catalogue from the hub refused" in caplog.text
    assert store().version == BUNDLED["version"] + 1
    assert (tmp_path / "catalogue" / "catalogue.json").read_bytes() == good


@pytest.mark.parametrize("offset", [0, -1])
def test_an_older_or_same_version_is_not_taken(tmp_path: Path, offset: int) -> None:
    """GIVEN version N in force WHEN the hub sends version N or N-1 THEN nothing changes."""
    store = CatalogueStore(tmp_path)
    version = BUNDLED["version"] + 2
    store.on_catalogue(hub_catalogue(version))
    outcome = store.on_catalogue(hub_catalogue(version + offset, new_title="Older edit"))
    assert outcome is CatalogueUpdate.NOT_NEWER
    assert store().version == version
    assert store().service("birth_record_extract").title["en"] != "Older edit"


def test_a_damaged_stored_catalogue_does_not_stop_the_kiosk(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN a stored hub catalogue damaged on disk WHEN the kiosk starts THEN the bundled one is used, with a warning."""
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "catalogue.json").write_bytes(hub_catalogue(BUNDLED["version"] + 1)[:200])
    with caplog.at_level(logging.WARNING, logger="kiosk.catalogue_store"):
        store = CatalogueStore(tmp_path)
    assert store.source == "bundled" and "stored catalogue ignored" in caplog.text


def test_a_stored_catalogue_older_than_the_bundled_one_is_ignored(tmp_path: Path) -> None:
    """GIVEN a software update whose bundled catalogue is newer than the one stored WHEN started THEN the bundled wins."""
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "catalogue.json").write_bytes(hub_catalogue(1))
    assert CatalogueStore(tmp_path).source == "bundled"


def test_a_catalogue_that_cannot_be_stored_is_not_put_in_force(tmp_path: Path) -> None:
    """GIVEN a data dir where the catalogue folder cannot be made WHEN a newer one arrives THEN the old one stays."""
    (tmp_path / "catalogue").write_text("a file where the folder should be")
    store = CatalogueStore(tmp_path)
    assert store.on_catalogue(hub_catalogue(BUNDLED["version"] + 1)) is CatalogueUpdate.NOT_STORED
    assert store().version == BUNDLED["version"]


def test_the_kiosk_uses_the_store_and_a_form_in_progress_keeps_its_service(services: Services) -> None:
    """GIVEN the wired kiosk with a form open WHEN a newer catalogue arrives THEN the open form keeps its
    questions, and the next service chosen comes from the new catalogue."""
    journey = services.journey
    services.demo.reader.insert(services.demo.new_card())
    journey.enter_pin(bytearray(b"1234"))
    journey.choose_service("birth_record_extract")
    open_service = journey.session.service
    assert services.catalogue.on_catalogue(hub_catalogue(BUNDLED["version"] + 1)) is CatalogueUpdate.ACCEPTED
    assert journey.session.service is open_service and journey.step is Step.FORM
    journey.back()
    journey.choose_service("birth_record_extract")
    assert journey.session.service.title["en"] == "Birth record extract (new)"
    assert journey.catalogue.version == BUNDLED["version"] + 1


def test_the_schema_check_is_remembered_and_a_changed_file_is_checked_again(tmp_path: Path) -> None:
    """GIVEN a kiosk that started once (the bundled and the stored catalogue passed the schema)
    WHEN the stored file is changed on disk behind its back, keeping valid JSON but breaking the schema
    THEN the next start checks it again, refuses it and runs on the bundled one."""
    store = CatalogueStore(tmp_path)
    assert store.on_catalogue(hub_catalogue(BUNDLED["version"] + 1)) is CatalogueUpdate.ACCEPTED
    CatalogueStore(tmp_path)  # a restart remembers both files as checked
    remembered = (tmp_path / "catalogue" / "schema-checked.txt").read_text().split()
    assert len(remembered) == 2
    stored = tmp_path / "catalogue" / "catalogue.json"
    data = json.loads(stored.read_bytes())
    data["surprise"] = 1  # valid JSON that only the schema refuses (no other check looks at it)
    stored.write_bytes(json.dumps(data).encode())
    restarted = CatalogueStore(tmp_path)
    assert restarted.source == "bundled" and restarted().version == BUNDLED["version"]


def test_a_file_remembered_as_checked_skips_only_the_schema(tmp_path: Path) -> None:
    """GIVEN a file that only the schema would refuse WHEN loaded with its digest remembered, then without
    THEN the first loads (the schema is skipped for bytes it passed before) and the second is refused."""
    data = json.loads(BUNDLED_PATH.read_bytes())
    data["surprise"] = 1
    path = tmp_path / "c.json"
    path.write_bytes(json.dumps(data).encode())
    assert load_catalogue(path, checked=frozenset({schema_digest(path.read_bytes())})).version == data["version"]
    with pytest.raises(CatalogueError, match="surprise"):
        load_catalogue(path)

