"""Proof that the card was there, at the hub: a stolen kiosk's device key alone cannot make a request,
and "my requests" answers the card at the kiosk with its requests from every centre.

Every test runs on SQLite and on PostgreSQL (the ``engine`` parameter of ``tests/hub/conftest.py``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.presence import NonceIssuer, PresenceRefused, PresenceVerifier
from protocol.certificates import personal_number
from protocol.presence import PresenceToken
from tests.fixtures.citizen_pki import CitizenCerts, make_citizen_certs
from tests.fixtures.clock import FakeClock, real_now
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.presence import card_token, request_item
from tests.hub.conftest import SignedClient

NINO = "01024085083"  # the demo citizen: the test PKI's card holder
OTHER_PERSON = {"personal_number": "33001012345", "given_name": "გიორგი", "surname": "კაპანაძე"}


@pytest.fixture(scope="module")
def certs() -> CitizenCerts:
    """The test PKI (the hub trusts its CAs) and a foreign look-alike one."""
    return make_citizen_certs()


@pytest.fixture
def hub(tmp_path: Any, hub_db_url: str | None, certs: CitizenCerts) -> Iterator[RunningHub]:
    """A hub with trust anchors: it checks every request's proof of presence."""
    with start_hub(tmp_path / "hub", db_url=hub_db_url, trust_anchors=certs.anchors) as running:
        yield running


def _kiosk(hub: RunningHub, name: str) -> Iterator[SignedClient]:
    with requests.Session() as session:
        yield SignedClient(hub, hub.enroll_kiosk(name), session)


@pytest.fixture
def sno(hub: RunningHub) -> Iterator[SignedClient]:
    """The kiosk of the Sno community centre."""
    yield from _kiosk(hub, "Sno")


@pytest.fixture
def kazbegi(hub: RunningHub) -> Iterator[SignedClient]:
    """The kiosk of another centre, Kazbegi."""
    yield from _kiosk(hub, "Kazbegi")


def nonce(kiosk: SignedClient) -> str:
    """A hub nonce, asked the way a kiosk asks as the card goes in."""
    answer = kiosk.call("POST", "/v1/presence-nonce")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["nonce"])


def login(kiosk: SignedClient, certs: CitizenCerts, *, online: bool = True, **kwargs: Any) -> PresenceToken:
    """The token of a card login at ``kiosk`` now (with the hub's nonce when online)."""
    return card_token(kwargs.pop("card", certs.good), kiosk.kiosk.kiosk_id, real_now(),
                      nonce(kiosk) if online else None, **kwargs)


def verdicts(kiosk: SignedClient, *items: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Send one batch; each item's (result, reason)."""
    answer = kiosk.submit(list(items))
    assert answer.status_code == 200, answer.text
    return [(r["result"], r.get("reason")) for r in answer.json()["results"]]


def item(kiosk: SignedClient, token: PresenceToken | None, *, number: str | None = None,
         at: dt.datetime | None = None, **clear: Any) -> dict[str, Any]:
    """A request in the name of ``number`` (default: the card's holder), made ``at`` (default: now)."""
    if number is None:
        number = personal_number(x509.load_der_x509_certificate(token.certificate)) if token else NINO
    return request_item(kiosk.hub.seal_public_key, personal_number=number, submitted_at=at or real_now(),
                        token=token, **clear)


def test_a_request_with_the_cards_proof_is_taken_and_kept_with_its_session(sno: SignedClient,
                                                                           certs: CitizenCerts) -> None:
    """GIVEN a card login with the hub's nonce WHEN two requests of that session arrive (and one again)
    THEN both are accepted, kept with the session's fingerprint, and the re-send is a duplicate."""
    token = login(sno, certs)
    first, second = item(sno, token), item(sno, token)
    assert verdicts(sno, first, second) == [("accepted", None), ("accepted", None)]
    assert verdicts(sno, first) == [("duplicate", None)]
    rows = sno.hub.query("SELECT presence, citizen FROM submissions ORDER BY created_at")
    assert {r[0] for r in rows} == {token.fingerprint}
    assert len({r[1] for r in rows}) == 1 and "01024085083" not in rows[0][1]
    assert sno.hub.count("presence_sessions") == 1


def test_offline_logins_are_proved_by_the_card_alone(sno: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN a login while the hub was out of reach (no hub nonce) WHEN its request arrives days later
    THEN the card's signature and certificate prove it: accepted."""
    token = login(sno, certs, online=False)
    assert verdicts(sno, item(sno, token)) == [("accepted", None)]


def test_a_stolen_device_key_without_the_card_cannot_make_a_request(sno: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN a thief with the kiosk's device key (every request correctly signed) but not the citizen's card
    WHEN they send a request with no proof, with a card certificate they made themselves, with the citizen's
    real certificate but their own signature, or with a token for a forged hub nonce
    THEN each is refused with a reason staff can read, nothing is stored, and the refusals are counted."""
    thief_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged_nonce = "1700000000.abcdefghijklmnopqrstuv.AAAAAAAAAAAAAAAAAAAAAA"
    forged = [
        item(sno, None, number="01024085083"),
        item(sno, login(sno, certs, card=certs.foreign_issued)),
        item(sno, login(sno, certs, signer=thief_key)),
        item(sno, card_token(certs.good, sno.kiosk.kiosk_id, real_now(), forged_nonce)),
    ]
    assert verdicts(sno, *forged) == [("rejected", "presence_missing"), ("rejected", "presence_untrusted"),
                                      ("rejected", "presence_bad_signature"), ("rejected", "presence_bad_nonce")]
    assert sno.hub.count("submissions") == 0 and sno.hub.count("presence_sessions") == 0
    counted = dict(sno.hub.query("SELECT reason, count FROM rejections"))
    assert counted == {"presence_missing": 1, "presence_untrusted": 1, "presence_bad_signature": 1,
                       "presence_bad_nonce": 1}


def test_a_real_token_cannot_be_bent_to_another_person_kiosk_time_or_session(
        sno: SignedClient, kazbegi: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN a genuine token of Nino's login at Sno
    WHEN it backs a request in Giorgi's name, is sent by another kiosk, backs a request made three hours
    after the login, or another login presents the same hub nonce
    THEN each is refused for that reason; the genuine request still goes through."""
    hub_nonce = nonce(sno)
    token = card_token(certs.good, sno.kiosk.kiosk_id, real_now(), hub_nonce)
    late = real_now() + dt.timedelta(hours=3)
    second_session = card_token(certs.good, sno.kiosk.kiosk_id, real_now(), hub_nonce)
    assert verdicts(sno, item(sno, token, number=OTHER_PERSON["personal_number"]), item(sno, token, at=late),
                    item(sno, token)) == [("rejected", "presence_other_person"),
                                          ("rejected", "presence_outside_session"), ("accepted", None)]
    assert verdicts(kazbegi, item(kazbegi, token)) == [("rejected", "presence_other_kiosk")]
    assert verdicts(sno, item(sno, second_session)) == [("rejected", "presence_nonce_reused")]


def test_an_unreadable_payload_is_refused_not_kept(sno: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN a request sealed to another hub's key WHEN it arrives THEN it is refused (sealed_unreadable):
    a request the hub cannot open would be lost in silence."""
    from nacl.public import PrivateKey

    stranger = bytes(PrivateKey.generate().public_key)
    token = login(sno, certs)
    bad = request_item(stranger, personal_number="01024085083", submitted_at=real_now(), token=token)
    assert verdicts(sno, bad) == [("rejected", "sealed_unreadable")]


def test_my_requests_lists_the_cards_requests_from_every_centre(sno: SignedClient, kazbegi: SignedClient,
                                                                certs: CitizenCerts) -> None:
    """GIVEN Nino's request made at Sno and Giorgi's made at Kazbegi
    WHEN Nino's card asks "my requests" at Kazbegi (a fresh login, with the hub's nonce)
    THEN the hub answers her Sno request — centre, receipt, state, no Sno id — and not Giorgi's; asked at Sno
    the same request carries its id (Sno matches it with its outbox)."""
    giorgi_card = certs.pki.issue_citizen("authentication", now=certs.now, citizen=OTHER_PERSON)
    mine = item(sno, login(sno, certs))
    assert verdicts(sno, mine) == [("accepted", None)]
    theirs = item(kazbegi, login(kazbegi, certs, card=giorgi_card))
    assert verdicts(kazbegi, theirs) == [("accepted", None)]

    answer = kazbegi.call("POST", "/v1/my-requests",
                          json.dumps({"presence": login(kazbegi, certs).to_json()}).encode())
    assert answer.status_code == 200, answer.text
    found = answer.json()["requests"]
    assert [(r["receipt_no"], r["centre"], r["state"], r["id"]) for r in found] == [
        (mine["receipt_no"], "Sno", "received", None)]
    at_sno = sno.call("POST", "/v1/my-requests", json.dumps({"presence": login(sno, certs).to_json()}).encode())
    assert [r["id"] for r in at_sno.json()["requests"]] == [mine["id"]]


def test_my_requests_needs_a_fresh_login_proof(sno: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN tokens that would show someone's list to whoever holds them WHEN asked with a token of an
    offline login (no hub nonce), with another kiosk's token, or with a forged signature
    THEN 403 with the reason, and no list."""
    thief_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token, reason in ((login(sno, certs, online=False), "presence_no_hub_nonce"),
                          (card_token(certs.good, "another-kiosk", real_now(), None), "presence_other_kiosk"),
                          (login(sno, certs, signer=thief_key), "presence_bad_signature")):
        answer = sno.call("POST", "/v1/my-requests", json.dumps({"presence": token.to_json()}).encode())
        assert (answer.status_code, answer.json()) == (403, {"error": reason})


def test_a_hub_without_trust_anchors_answers_no_list(client: SignedClient, certs: CitizenCerts) -> None:
    """GIVEN a hub served without --trust-anchors WHEN "my requests" is asked THEN 403 presence_unchecked:
    without its anchors it cannot know whose card that is."""
    token = card_token(certs.good, client.kiosk.kiosk_id, real_now(), nonce(client))
    answer = client.call("POST", "/v1/my-requests", json.dumps({"presence": token.to_json()}).encode())
    assert (answer.status_code, answer.json()) == (403, {"error": "presence_unchecked"})


def test_a_hub_nonce_is_good_for_minutes_only(certs: CitizenCerts) -> None:
    """GIVEN a nonce issued to kiosk K WHEN the card signs it 11 minutes later, or "my requests" asks with it
    11 minutes later, or kiosk L presents it THEN refused; within the minutes and at K it holds."""
    clock = FakeClock(certs.now)
    issuer = NonceIssuer(b"n" * 32, clock.wall)
    verifier = PresenceVerifier(certs.anchors, issuer)
    hub_nonce, expires = issuer.issue("K")
    assert expires == certs.now + dt.timedelta(minutes=10)
    in_time = card_token(certs.good, "K", certs.now + dt.timedelta(minutes=2), hub_nonce)
    assert verifier.verify(in_time.to_json(), kiosk_id="K", fresh_at=clock.wall()).personal_number == "01024085083"
    late_signature = card_token(certs.good, "K", certs.now + dt.timedelta(minutes=16), hub_nonce)
    with pytest.raises(PresenceRefused, match="presence_stale_nonce"):
        verifier.verify(late_signature.to_json(), kiosk_id="K")
    clock.advance(11 * 60)
    with pytest.raises(PresenceRefused, match="presence_stale_nonce"):
        verifier.verify(in_time.to_json(), kiosk_id="K", fresh_at=clock.wall())
    assert verifier.verify(in_time.to_json(), kiosk_id="K").session_id == in_time.challenge.session_id  # a request
    elsewhere = card_token(certs.good, "L", certs.now + dt.timedelta(minutes=2), hub_nonce)
    with pytest.raises(PresenceRefused, match="presence_bad_nonce"):
        verifier.verify(elsewhere.to_json(), kiosk_id="L")


def test_a_token_is_checked_at_the_time_the_card_signed(certs: CitizenCerts) -> None:
    """GIVEN a login made while the card's certificate was valid WHEN its request reaches the hub after the
    certificate expired (a kiosk offline for long) THEN it holds; a login signed after the expiry does not."""
    verifier = PresenceVerifier(certs.anchors, NonceIssuer(b"n" * 32, FakeClock(certs.now).wall))
    expiry = certs.good.cert.not_valid_after_utc
    before = card_token(certs.good, "K", expiry - dt.timedelta(hours=1))
    after = card_token(certs.good, "K", expiry + dt.timedelta(hours=1))
    assert verifier.verify(before.to_json(), kiosk_id="K").personal_number == "01024085083"
    with pytest.raises(PresenceRefused, match="presence_untrusted"):
        verifier.verify(after.to_json(), kiosk_id="K")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda t: {**t, "issued_at": t["issued_at"].replace("+00:00", "Z")}, "presence_malformed"),
    (lambda t: {**t, "session_id": "a\nb"}, "presence_malformed"),
    (lambda t: {**t, "certificate": "not base64"}, "presence_malformed"),
    (lambda t: {**t, "random": t["random"][::-1]}, "presence_bad_signature"),
    (lambda t: {**t, "session_id": "another-session"}, "presence_bad_signature"),
    (lambda t: {k: v for k, v in t.items() if k != "format"}, "presence_malformed"),
    (lambda t: "a string", "presence_malformed"),
], ids=["time-respelled", "newline", "bad-base64", "random-changed", "session-changed", "no-format", "not-object"])
def test_a_tampered_token_does_not_verify(certs: CitizenCerts, change: Any, reason: str) -> None:
    """GIVEN a genuine token WHEN any signed field is changed or its shape broken THEN refused for that reason."""
    verifier = PresenceVerifier(certs.anchors, NonceIssuer(b"n" * 32, FakeClock(certs.now).wall))
    token = card_token(certs.good, "K", certs.now).to_json()
    with pytest.raises(PresenceRefused, match=reason):
        verifier.verify(change(token), kiosk_id="K")


def test_requests_kept_before_the_hub_named_citizens_are_found_after_its_start(sno: SignedClient,
                                                                               certs: CitizenCerts) -> None:
    """GIVEN a request stored before migration 0004 (no citizen lookup) and one whose payload cannot be opened
    WHEN the hub starts (``kiosk hub serve`` runs ``index_missing``) THEN the first is named and "my requests"
    finds it; the unreadable one is marked so it is not tried again."""
    from sqlalchemy import insert

    from hub.admission import Admission, index_missing
    from hub.schema import submissions

    hub = sno.hub
    old = request_item(hub.seal_public_key, personal_number=NINO, submitted_at=real_now(), token=None)
    with hub.store.write() as db:
        for request_id, sealed in ((old["id"], base64.b64decode(old["sealed"])), (str(uuid.uuid4()), b"x" * 80)):
            db.execute(insert(submissions).values(
                kiosk_id=sno.kiosk.kiosk_id, id=request_id, receipt_no=f"K-{request_id[:8]}", service="s",
                created_at=real_now().isoformat(), citizen=None, synthetic=0, sealed=sealed,
                received_at=real_now().isoformat(), state="received", changed_at=real_now().isoformat()))
    assert index_missing(hub.store, Admission(hub.keys, None)) == 2
    assert sorted(r[0] != "" for r in hub.query("SELECT citizen FROM submissions")) == [False, True]
    assert index_missing(hub.store, Admission(hub.keys, None)) == 0
    answer = sno.call("POST", "/v1/my-requests", json.dumps({"presence": login(sno, certs).to_json()}).encode())
    assert [r["id"] for r in answer.json()["requests"]] == [old["id"]]
