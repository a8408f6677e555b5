"""Documents kiosks keep offline: signed by the hub's key, sent again only when they changed."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from assets import ASSETS_DIR
from hub import documents
from protocol.roles import PersonHash
from protocol.wire import HEADER_HUB_SIGNATURE, verify_document
from tests.fixtures.hub_server import RunningHub
from tests.hub.conftest import SignedClient


def _crl(folder: Path, name: str, pem: bool) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .last_update(now).next_update(now + dt.timedelta(days=7)).sign(key, hashes.SHA256()))
    der = crl.public_bytes(serialization.Encoding.DER)
    (folder / f"{name}.{'pem' if pem else 'crl'}").write_bytes(
        crl.public_bytes(serialization.Encoding.PEM) if pem else der)
    return der


def test_catalogue_is_signed_and_304_when_unchanged(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a published catalogue WHEN fetched THEN its bytes verify with the hub key; with its ETag THEN 304."""
    path = ASSETS_DIR / "catalogue" / "catalogue.json"
    documents.publish_catalogue(hub_server.store, hub_server.keys, path)
    first = client.call("GET", "/v1/catalogue")
    assert first.status_code == 200 and first.content == path.read_bytes()
    assert verify_document(hub_server.verify_key, first.content, first.headers[HEADER_HUB_SIGNATURE])
    again = client.call("GET", "/v1/catalogue", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.call("GET", "/v1/catalogue", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_catalogue_not_published_is_404(client: Any) -> None:
    """GIVEN a hub with no catalogue WHEN asked THEN 404 not_published (the kiosk keeps its own)."""
    answer = client.call("GET", "/v1/catalogue")
    assert (answer.status_code, answer.json()) == (404, {"error": "not_published"})


def test_broken_catalogue_is_not_published(hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN a catalogue kiosks could not read WHEN published THEN it is refused with the reason."""
    broken = tmp_path / "catalogue.json"
    data = json.loads((ASSETS_DIR / "catalogue" / "catalogue.json").read_text(encoding="utf-8"))
    data["services"][0]["agency"] = "ministry_of_magic"
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(documents.DocumentError, match="ministry_of_magic|agency"):
        documents.publish_catalogue(hub_server.store, hub_server.keys, broken)
    assert documents.published(hub_server.store, documents.CATALOGUE) is None


def test_crl_bundle_holds_every_crl_as_der(client: Any, hub_server: RunningHub, tmp_path: Path) -> None:
    """GIVEN a DER and a PEM CRL WHEN published and fetched THEN both come back as DER, signed; 304 with the ETag."""
    expected = [_crl(tmp_path, "GEO Authentication CA", pem=False), _crl(tmp_path, "GEO Signing CA", pem=True)]
    documents.publish_crl(hub_server.store, hub_server.keys, tmp_path)
    answer = client.call("GET", "/v1/crl")
    assert verify_document(hub_server.verify_key, answer.content, answer.headers[HEADER_HUB_SIGNATURE])
    assert [base64.b64decode(c) for c in answer.json()["crls"]] == expected
    assert client.call("GET", "/v1/crl", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304


def test_role_list_signature_verifies_with_the_hub_key(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a staff member and a technician WHEN the role list is fetched THEN it lists them, signed, with expiry."""
    documents.add_role(hub_server.store, "01001012345", "staff", "Tamar K.")
    documents.add_role(hub_server.store, "01001054321", "technician", "Giorgi M.")
    answer = client.call("GET", "/v1/roles")
    assert verify_document(hub_server.verify_key, answer.content, answer.headers[HEADER_HUB_SIGNATURE])
    assert not verify_document(hub_server.verify_key, answer.content + b" ", answer.headers[HEADER_HUB_SIGNATURE])
    body = answer.json()
    named = PersonHash.from_list(body["person_hash"])
    assert [(r["person"], r["role"], r["name"]) for r in body["roles"]] == [
        (named.of("01001012345"), "staff", "Tamar K."), (named.of("01001054321"), "technician", "Giorgi M.")]
    assert body["kiosk_id"] == client.kiosk.kiosk_id
    assert dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.fromisoformat(body["issued_at"])


def test_role_list_names_nobody_by_number_and_is_made_for_one_kiosk(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a staff member WHEN two kiosks fetch the role list THEN neither list holds the personal number,
    each names its own kiosk, and both name the person the same way (the hub's salt, not the kiosk's)."""
    documents.add_role(hub_server.store, "01001012345", "staff", "Tamar K.")
    other = SignedClient(hub_server, hub_server.enroll_kiosk("Other centre"), client.session)
    mine, theirs = client.call("GET", "/v1/roles"), other.call("GET", "/v1/roles")
    for answer in (mine, theirs):
        assert b"01001012345" not in answer.content
    assert (mine.json()["kiosk_id"], theirs.json()["kiosk_id"]) == (client.kiosk.kiosk_id, other.kiosk.kiosk_id)
    assert mine.json()["roles"][0]["person"] == theirs.json()["roles"][0]["person"]


def test_removed_role_leaves_the_list(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a staff member WHEN their role is removed THEN the next role list no longer names them."""
    documents.add_role(hub_server.store, "01001012345", "staff", "Tamar K.")
    assert documents.remove_role(hub_server.store, "01001012345") == 1
    assert client.call("GET", "/v1/roles").json()["roles"] == []


def test_role_needs_a_personal_number(hub_server: RunningHub) -> None:
    """GIVEN a personal number that is not 11 digits WHEN added THEN refused."""
    with pytest.raises(documents.DocumentError):
        documents.add_role(hub_server.store, "12345", "staff", "x")
