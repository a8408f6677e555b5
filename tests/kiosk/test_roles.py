"""Role gates: only the hub's signed role list (or the technician passcode) opens staff and technician modes."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
import requests
from nacl.signing import SigningKey

from hardware.demo_pki import DEMO_CITIZEN, make_demo_pki
from hardware.simulated_card import SimulatedIdCard
from hub import documents
from kiosk.audit import Actor, AuditLog
from kiosk.identity import CertificateValidator, Citizen, citizen_from_certificate, parse_certificate, prove_possession
from kiosk.passcode import PasscodeGate, PasscodeLocked, PasscodeRefused, hash_passcode
from kiosk.roles import AccessGate, Role, RoleListInvalid, RoleRefused, RoleStore
from kiosk.technician import enrol, pinned_hub
from offline.enrollment import load_enrollment
from offline.hub_client import HubClient
from tests.fixtures.clock import WORLD_NOW, real_now
from tests.fixtures.role_lists import TEST_KIOSK_ID, pin_of, signed_role_list

STAFF = {"personal_number": "01001012345", "given_name": "თამარ", "surname": "კაპანაძე"}
TECH = Citizen("01001054321", "Giorgi", "Tech")
CITIZEN = Citizen(DEMO_CITIZEN["personal_number"], DEMO_CITIZEN["given_name"], DEMO_CITIZEN["surname"])
PASSCODE = "field-tech-42"


@pytest.fixture(scope="module")
def passcode_hash() -> str:
    return hash_passcode(PASSCODE, n=2**14)


def _role_list(key: SigningKey, now: dt.datetime, entries: list[tuple[str, str]], days: float = 14,
               kiosk_id: str = TEST_KIOSK_ID) -> tuple[bytes, str]:
    return signed_role_list(key, kiosk_id, now, [(n, r, "N") for n, r in entries], days)


def _gate(tmp_path: Path, clock, passcode_hash: str, key: SigningKey | None) -> tuple[AccessGate, AuditLog, RoleStore]:
    audit = AuditLog(tmp_path / "audit.sqlite", clock.wall)
    store = RoleStore(tmp_path, pin_of(key) if key else None)
    passcode = PasscodeGate(passcode_hash, max_tries=3, lockout_s=300, state_path=tmp_path / "tries.json",
                            clock=clock.wall)
    return AccessGate(store, passcode, audit, clock.wall), audit, store


def _actions(audit: AuditLog) -> list[tuple[str, str, dict]]:
    return [(e.action, e.actor_id, e.details) for e in audit.entries()]


def test_staff_and_technicians_enter_citizens_do_not(tmp_path: Path, clock, passcode_hash: str) -> None:
    """GIVEN a signed list with one staff member and one technician WHEN they and a villager log in with
    their cards THEN staff and technician are admitted in their roles, the villager is refused, and all
    three decisions are in the audit log with masked ids only."""
    hub_key = SigningKey.generate()
    gate, audit, store = _gate(tmp_path, clock, passcode_hash, hub_key)
    store.save(*_role_list(hub_key, clock.wall(), [(STAFF["personal_number"], "staff"),
                                                   (TECH.personal_number, "technician")]))
    staff = Citizen(STAFF["personal_number"], STAFF["given_name"], STAFF["surname"])
    assert gate.role_for(staff) is Role.STAFF and gate.role_for(TECH) is Role.TECHNICIAN
    assert gate.role_for(CITIZEN) is None
    assert gate.login_with_card(staff) == Actor("staff", "*******2345")
    assert gate.login_with_card(TECH).role == "technician"
    with pytest.raises(RoleRefused, match="unknown_person"):
        gate.login_with_card(CITIZEN)
    with pytest.raises(RoleRefused, match="no_such_role"):
        gate.login_with_card(staff, Role.TECHNICIAN)
    assert [(a, i) for a, i, _ in _actions(audit)] == [
        ("role.login", "*******2345"), ("role.login", "*******4321"), ("role.refused", "*******5083"),
        ("role.refused", "*******2345")]
    text = (tmp_path / "audit.sqlite").read_bytes()
    assert STAFF["personal_number"].encode() not in text and CITIZEN.personal_number.encode() not in text


@pytest.mark.parametrize("damage", ["expired", "bad_signature", "missing", "no_hub_key"])
def test_an_untrustworthy_list_refuses_everyone_but_the_passcode(damage: str, tmp_path: Path, clock,
                                                                 passcode_hash: str) -> None:
    """GIVEN a role list that expired, was edited on disk, never came, or no hub key pinned WHEN the
    technician logs in with the card THEN refused (and audited with why); the passcode still opens."""
    hub_key = SigningKey.generate()
    gate, audit, store = _gate(tmp_path, clock, passcode_hash, None if damage == "no_hub_key" else hub_key)
    body, signature = _role_list(hub_key, clock.wall(), [(TECH.personal_number, "technician")], days=1)
    if damage == "expired":
        store.save(body, signature)
        clock.advance(86_401)
    elif damage == "bad_signature":
        forged = body.replace(b'"name":"N"', b'"name":"M"')
        assert forged != body
        (tmp_path / store.path.name).write_text(json.dumps(
            {"body": base64.b64encode(forged).decode(), "signature": signature}))
    with pytest.raises(RoleRefused) as refused:
        gate.login_with_card(TECH)
    assert refused.value.reason == f"role_list_{damage}"
    assert gate.login_with_passcode(PASSCODE) == Actor("technician", "passcode")
    assert [a for a, _, _ in _actions(audit)] == ["role.refused", "passcode.ok"]


def test_the_passcode_is_rate_limited_and_every_try_audited(tmp_path: Path, clock, passcode_hash: str) -> None:
    """GIVEN a kiosk that never reached the hub WHEN the passcode is guessed wrong three times, then given
    right while locked THEN two refusals then a lockout, the right passcode is refused too, each audited."""
    gate, audit, _ = _gate(tmp_path, clock, passcode_hash, None)
    for _ in range(2):
        with pytest.raises(PasscodeRefused):
            gate.login_with_passcode("guess-guess")
    for attempt in ("guess-guess", PASSCODE):
        with pytest.raises(PasscodeLocked):
            gate.login_with_passcode(attempt)
    assert [a for a, _, _ in _actions(audit)] == ["passcode.refused", "passcode.refused", "passcode.locked",
                                                  "passcode.locked"]
    clock.advance(301)
    assert gate.login_with_passcode(PASSCODE).role == "technician"


@pytest.fixture(scope="module")
def staff_pki():
    """A demo PKI whose card holder is the staff member (five RSA keys: made once)."""
    return make_demo_pki(WORLD_NOW, citizen=STAFF)


def _card_login(gate: AccessGate, pki, clock) -> Actor:
    """The staff member's card as the kiosk reads it: certificate path, PIN, challenge, then the gate."""
    card = SimulatedIdCard(pki)
    card.present = True
    cert = parse_certificate(card.certificates().authentication)
    CertificateValidator([pki.root.cert, pki.auth_ca.cert], clock.wall).validate(cert)
    prove_possession(card, cert, bytearray(b"1234"))
    return gate.login_with_card(citizen_from_certificate(cert))


def test_roles_from_the_real_hub_and_a_revocation(tmp_path: Path, clock, passcode_hash: str, hub_server,
                                                  staff_pki) -> None:
    """GIVEN a kiosk enrolled with the real hub by a technician (passcode) and the hub granting the staff
    member a role WHEN the role list is fetched and the staff card (PIN 1234) logs in, then the hub takes the
    role away and the list is fetched again THEN the first login is admitted, the second refused, and the
    enrolment and both logins are in the audit log."""
    clock.now = real_now()  # the hub checks request dates against its own clock
    data = tmp_path / "kiosk"
    audit = AuditLog(data / "audit.sqlite", clock.wall)
    technician = Actor("technician", "passcode")
    with requests.Session() as session:
        enrol(technician, audit, session=session, hub_url=hub_server.url, code=hub_server.enroll_code(),
              data_dir=data, name="test kiosk", clock=clock.wall)
        documents.add_role(hub_server.store, STAFF["personal_number"], "staff", "Tamar")
        client = HubClient(session, hub_server.url, load_enrollment(data).identity(data), clock=clock.wall)
        store = RoleStore(data, pinned_hub(data))
        document = client.document("roles")
        store.save(document.body, document.signature)  # what the sync engine does with the role list
        gate = AccessGate(store,
                          PasscodeGate(passcode_hash, max_tries=3, lockout_s=300, state_path=data / "t.json",
                                       clock=clock.wall), audit, clock.wall)
        admitted = _card_login(gate, staff_pki, clock)
        assert (admitted.role, admitted.display_name) == ("staff", "Tamar")
        documents.remove_role(hub_server.store, STAFF["personal_number"])
        document = client.document("roles")
        store.save(document.body, document.signature)
        with pytest.raises(RoleRefused, match="unknown_person"):
            _card_login(gate, staff_pki, clock)
    assert [(a, d.get("how") or d.get("reason") or d.get("role")) for a, _, d in _actions(audit)] == [
        ("enrolment", "technician_screen"), ("role.login", "staff"), ("role.refused", "unknown_person")]


def test_an_older_role_list_replayed_does_not_bring_back_a_removed_technician(tmp_path: Path, clock,
                                                                             passcode_hash: str) -> None:
    """GIVEN list A (issued t1, with the technician) saved, then the newer list B (issued t2, technician removed)
    WHEN the validly signed list A is replayed THEN it is refused (RoleListInvalid "older_than_cached"), list B
    stays cached and the technician stays refused; saving B again (same issued_at) changes nothing."""
    hub_key = SigningKey.generate()
    gate, _audit, store = _gate(tmp_path, clock, passcode_hash, hub_key)
    t1 = clock.wall()
    list_a = _role_list(hub_key, t1, [(TECH.personal_number, "technician")])
    store.save(*list_a)
    assert gate.role_for(TECH) is Role.TECHNICIAN
    clock.advance(3600)
    list_b = _role_list(hub_key, clock.wall(), [(STAFF["personal_number"], "staff")])
    store.save(*list_b)
    assert gate.role_for(TECH) is None
    cached = (tmp_path / "roles.signed.json").read_bytes()
    with pytest.raises(RoleListInvalid, match="older_than_cached"):
        store.save(*list_a)
    assert (tmp_path / "roles.signed.json").read_bytes() == cached
    assert gate.role_for(TECH) is None
    with pytest.raises(RoleRefused):
        gate.login_with_card(TECH)
    assert store.save(*list_b).issued_at == clock.wall()  # the same list again: a no-op
    assert (tmp_path / "roles.signed.json").read_bytes() == cached


def test_a_list_made_for_another_kiosk_is_refused_and_names_nobody_by_number(tmp_path: Path, clock,
                                                                            passcode_hash: str) -> None:
    """Finding 4. GIVEN a validly signed list the hub made for kiosk B WHEN kiosk A is offered it THEN A refuses it
    (other_kiosk) and keeps its own list; and no list holds a personal number, only the person's keyed hash."""
    hub_key = SigningKey.generate()
    gate, _audit, store = _gate(tmp_path, clock, passcode_hash, hub_key)
    mine = _role_list(hub_key, clock.wall(), [(TECH.personal_number, "technician")])
    store.save(*mine)
    clock.advance(60)
    theirs = _role_list(hub_key, clock.wall(), [(STAFF["personal_number"], "technician")], kiosk_id="k-other")
    with pytest.raises(RoleListInvalid, match="other_kiosk"):
        store.save(*theirs)
    assert gate.role_for(TECH) is Role.TECHNICIAN
    staff = Citizen(STAFF["personal_number"], STAFF["given_name"], STAFF["surname"])
    assert gate.role_for(staff) is None
    for body, _signature in (mine, theirs):
        assert TECH.personal_number.encode() not in body and STAFF["personal_number"].encode() not in body
    assert TECH.personal_number.encode() not in store.path.read_bytes()
