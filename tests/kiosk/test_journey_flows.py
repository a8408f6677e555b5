"""The special citizen flows on the real core with the simulated card (no Kivy): qualified signature,
PIN change, PUK unblock, my requests and the rating."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from hardware.demo_pki import DEMO_CITIZEN, Flaw
from hardware.simulated_card import SimulatedIdCard
from kiosk.my_requests import Source
from kiosk.pin_flow import Stage
from kiosk.ports import PinKind, PinState
from kiosk.services import Services
from kiosk.session import Step
from kiosk.signing import SignatureInvalid, verify_signed_payload
from protocol.qualified_signature import SIGNATURE_FIELD
from protocol.sealing import open_sealed

SIGNED_SERVICE = "municipality_letter"
SIGN_PIN = "123456"


def _pin(text: str) -> bytearray:
    return bytearray(text.encode())


def _login(services: Services, card: SimulatedIdCard | None = None) -> SimulatedIdCard:
    card = card or services.demo.new_card()
    services.demo.reader.insert(card)
    services.journey.enter_pin(_pin("1234"))
    assert services.journey.step is Step.SERVICES
    return card


def _to_sign_step(services: Services, card: SimulatedIdCard | None = None) -> SimulatedIdCard:
    journey = services.journey
    card = _login(services, card)
    journey.choose_service(SIGNED_SERVICE)
    journey.answer("roads")
    journey.answer("The road to the school needs repair.")
    journey.answer("599123456")
    journey.answer("yes")
    assert journey.step is Step.CONFIRM
    journey.confirm()
    assert journey.step is Step.SIGN
    return card


def _payloads(services: Services) -> list[dict]:
    rows = services.outbox.db.execute("SELECT sealed FROM submissions ORDER BY created_at").fetchall()
    return [open_sealed(services.demo.hub_private_key, row[0]) for row in rows]


# -- qualified signature ----------------------------------------------------------------------


def test_signed_request_carries_a_verifiable_qualified_signature(services: Services) -> None:
    """GIVEN a service that needs a signature WHEN the right signing PIN is typed
    THEN the request is queued with a signature over its RFC 8785 form that verifies with the card's certificate."""
    _to_sign_step(services)
    assert services.journey.session.sign_status.tries_left == 3
    pin = _pin(SIGN_PIN)
    services.journey.sign(pin)
    assert pin == bytearray()
    assert services.journey.step is Step.DONE
    [payload] = _payloads(services)
    assert set(payload[SIGNATURE_FIELD]) >= {"algorithm", "signature", "certificate"}
    signer = verify_signed_payload(payload)
    assert signer == services.demo.pki.citizen_sign.cert
    payload["answers"]["text"] = "Something else"  # any change to the request breaks the signature
    with pytest.raises(SignatureInvalid):
        verify_signed_payload(payload)


def test_unsigned_service_goes_straight_to_done(services: Services) -> None:
    """GIVEN a service without a signature WHEN confirmed THEN no signing PIN is asked and no signature travels."""
    journey = services.journey
    _login(services)
    journey.choose_service("residence_certificate")
    for answer in ("bank", "599123456", "yes"):
        journey.answer(answer)
    journey.confirm()
    assert journey.step is Step.DONE
    assert SIGNATURE_FIELD not in _payloads(services)[0]


def test_wrong_signing_pin_says_tries_left_and_queues_nothing(services: Services) -> None:
    """GIVEN the signing PIN screen WHEN a wrong PIN is typed THEN tries left show, nothing is queued,
    the card counted exactly one try (no automatic retry), and the right PIN then sends."""
    card = _to_sign_step(services)
    services.journey.sign(_pin("000000"))
    s = services.journey.session
    assert services.journey.step is Step.SIGN
    assert s.problem.key == "sign.incorrect" and s.problem.params == {"tries": 2}
    assert card.pin_status(PinKind.SIGN).tries_left == 2
    assert services.outbox.stats()["total"] == 0
    services.journey.sign(_pin(SIGN_PIN))
    assert services.journey.step is Step.DONE and services.outbox.stats()["total"] == 1


def test_signing_pin_locked_says_so_and_offers_the_way_back(services: Services) -> None:
    """GIVEN three wrong signing PINs WHEN the card locks THEN the screen says it in words, nothing is queued,
    and Back leads to the service list (the authentication PIN still works)."""
    _to_sign_step(services)
    for wrong in ("000000", "111111", "222222"):
        services.journey.sign(_pin(wrong))
    s = services.journey.session
    assert services.journey.step is Step.SIGN and s.problem.key == "sign.locked"
    assert s.sign_status.state is PinState.LOCKED
    services.journey.sign(_pin(SIGN_PIN))  # a locked PIN is not tried again
    assert services.outbox.stats()["total"] == 0
    services.journey.back()
    assert services.journey.step is Step.SERVICES


def test_card_pulled_at_signing_wipes_the_session(services: Services) -> None:
    """GIVEN the signing PIN screen WHEN the card is pulled THEN the session is wiped; a late PIN does nothing."""
    _to_sign_step(services)
    services.demo.reader.remove()
    assert services.journey.step is Step.ATTRACT and services.journey.session.is_empty
    pin = _pin(SIGN_PIN)
    services.journey.sign(pin)
    assert pin == bytearray() and services.journey.step is Step.ATTRACT
    assert services.outbox.stats()["total"] == 0


def test_signing_certificate_of_someone_else_is_refused_before_the_pin(services: Services) -> None:
    """GIVEN a card whose signing certificate names another person WHEN signing THEN it is refused
    and the signing PIN was never tried."""
    pki = services.demo.pki
    other = {**DEMO_CITIZEN, "personal_number": "01001012345"}
    foreign = dataclasses.replace(pki, citizen_sign=pki.issue_citizen("signing", citizen=other))
    card = SimulatedIdCard(foreign)
    _to_sign_step(services, card)
    services.journey.sign(_pin(SIGN_PIN))
    assert services.journey.step is Step.FAILED
    assert services.journey.session.problem.key == "error.signer_mismatch"
    assert card.pin_status(PinKind.SIGN).tries_left == 3
    assert services.outbox.stats()["total"] == 0


def test_signing_certificate_without_non_repudiation_is_refused(services: Services) -> None:
    """GIVEN a signing certificate lacking nonRepudiation WHEN signing THEN it is refused as bad usage."""
    pki = services.demo.pki
    bad = dataclasses.replace(pki, citizen_sign=pki.issue_citizen("signing", flaw=Flaw.WRONG_USAGE))
    _to_sign_step(services, SimulatedIdCard(bad))
    services.journey.sign(_pin(SIGN_PIN))
    assert services.journey.session.problem.key == "error.cert_bad_usage"


# -- PIN change and PUK unblock --------------------------------------------------------------


def test_pin_change_old_new_repeat_then_the_new_pin_works(services: Services) -> None:
    """GIVEN the PIN change service WHEN old, new and repeat are typed THEN the card has the new PIN."""
    journey = services.journey
    card = _login(services)
    journey.choose_service("pin_change")
    flow = journey.session.pin_flow
    assert journey.step is Step.PIN_CHANGE and flow.stage is Stage.CHOOSE
    journey.pin_service_choose(PinKind.AUTH)
    typed = [_pin("1234"), _pin("4321"), _pin("4321")]
    for code in typed:
        journey.pin_service_enter(code)
    assert flow.stage is Stage.DONE and flow.succeeded and flow.outcome_key == "pin_change.done_auth"
    assert all(code == bytearray() for code in typed)
    journey.leave_pin_service()
    assert journey.step is Step.SERVICES and journey.session.pin_flow is None
    services.demo.reader.remove()
    services.demo.reader.insert(card)
    journey.enter_pin(_pin("4321"))
    assert journey.step is Step.SERVICES


def test_pin_change_slips_are_refused_before_the_card_is_asked(services: Services) -> None:
    """GIVEN the signing PIN change WHEN the length is wrong, the new equals the old, or the repeat differs
    THEN each is said in words and the card's try counter is untouched."""
    journey = services.journey
    card = _login(services)
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.SIGN)
    flow = journey.session.pin_flow
    assert flow.length == 6
    journey.pin_service_enter(_pin("1234"))
    assert flow.problem.key == "pin_change.error.length" and flow.problem.params == {"length": 6}
    journey.pin_service_enter(_pin(SIGN_PIN))
    journey.pin_service_enter(_pin(SIGN_PIN))
    assert flow.stage is Stage.NEW and flow.problem.key == "pin_change.error.same_as_old"
    journey.pin_service_enter(_pin("654321"))
    journey.pin_service_enter(_pin("654320"))
    assert flow.stage is Stage.NEW and flow.problem.key == "pin_change.error.mismatch"
    assert card.pin_status(PinKind.SIGN).tries_left == 3


def test_pin_change_with_a_wrong_old_pin_says_tries_left(services: Services) -> None:
    """GIVEN the PIN change WHEN the old PIN is wrong THEN the card's tries left are said and the old PIN is asked again."""
    journey = services.journey
    _login(services)
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.AUTH)
    for code in ("9999", "5555", "5555"):
        journey.pin_service_enter(_pin(code))
    flow = journey.session.pin_flow
    assert flow.stage is Stage.OLD and flow.problem.params == {"tries": 2}
    assert flow.status.state is PinState.COUNT_LOW


def test_back_walks_the_stages_then_leaves(services: Services) -> None:
    """GIVEN the PIN change at the repeat step WHEN Back is touched repeatedly THEN the stages unwind to the services."""
    journey = services.journey
    _login(services)
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.AUTH)
    journey.pin_service_enter(_pin("1234"))
    journey.pin_service_enter(_pin("4321"))
    flow = journey.session.pin_flow
    seen = []
    while journey.step is Step.PIN_CHANGE:
        seen.append(flow.stage)
        journey.back()
    assert seen == [Stage.REPEAT, Stage.NEW, Stage.OLD, Stage.CHOOSE]
    assert journey.step is Step.SERVICES


def test_puk_unblock_from_the_blocked_screen_without_login(services: Services) -> None:
    """GIVEN a blocked authentication PIN WHEN the PUK and a new PIN are typed on the blocked screen's way out
    THEN the PIN is unblocked and the kiosk asks for the new PIN to log in."""
    journey = services.journey
    services.demo.reader.insert(services.demo.new_card())
    for wrong in ("0000", "1111", "2222"):
        journey.enter_pin(_pin(wrong))
    assert journey.step is Step.PIN_BLOCKED
    journey.unblock_with_puk()
    flow = journey.session.pin_flow
    assert journey.step is Step.PIN_CHANGE and flow.stage is Stage.PUK and flow.length == 8
    assert journey.session.citizen is not None  # the certificate was validated when the card went in
    for code in ("12345678", "2580", "2580"):
        journey.pin_service_enter(_pin(code))
    assert flow.succeeded and flow.outcome_key == "puk.done"
    journey.leave_pin_service()
    assert journey.step is Step.PIN and journey.session.pin_status.tries_left == 3
    journey.enter_pin(_pin("2580"))
    assert journey.step is Step.SERVICES


def test_wrong_puk_counts_down_then_locks(services: Services) -> None:
    """GIVEN the PUK unblock WHEN wrong PUKs are typed THEN tries left are said, then the PUK is locked for good."""
    journey = services.journey
    services.demo.reader.insert(services.demo.new_card(auth_pin="1234"))
    for wrong in ("0000", "1111", "2222"):
        journey.enter_pin(_pin(wrong))
    journey.unblock_with_puk()
    flow = journey.session.pin_flow
    for puk in ("00000000", "11111111"):
        for code in (puk, "2580", "2580"):
            journey.pin_service_enter(_pin(code))
    assert flow.stage is Stage.PUK and flow.problem.key == "puk.incorrect" and flow.problem.params == {"tries": 1}
    for code in ("22222222", "2580", "2580"):
        journey.pin_service_enter(_pin(code))
    assert flow.stage is Stage.DONE and not flow.succeeded and flow.outcome_key == "puk.locked"
    journey.leave_pin_service()
    assert journey.step is Step.PIN_BLOCKED


def test_card_pulled_mid_pin_change_wipes_everything(services: Services) -> None:
    """GIVEN the PIN change with the old and new PIN typed WHEN the card is pulled THEN the session and the flow's buffers are wiped."""
    journey = services.journey
    _login(services)
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.AUTH)
    journey.pin_service_enter(_pin("1234"))
    journey.pin_service_enter(_pin("4321"))
    flow = journey.session.pin_flow
    services.demo.reader.remove()
    assert journey.step is Step.ATTRACT and journey.session.is_empty
    assert flow._first == bytearray() and flow._new == bytearray()
    late = _pin("4321")
    journey.pin_service_enter(late)
    assert late == bytearray() and journey.step is Step.ATTRACT


# -- my requests -----------------------------------------------------------------------------


def test_my_requests_lists_this_citizens_requests_from_the_kiosk(services: Services) -> None:
    """GIVEN a request made earlier WHEN "my requests" is chosen offline THEN it is listed, said to come from this kiosk."""
    journey = services.journey
    _login(services)
    journey.choose_service("residence_certificate")
    for answer in ("bank", "599123456", "yes"):
        journey.answer(answer)
    journey.confirm()
    receipt_no = journey.session.result.receipt.receipt_no
    journey.another_service()
    journey.choose_service("my_requests")
    result = journey.session.my_requests
    assert journey.step is Step.MY_REQUESTS and result.source is Source.KIOSK
    assert [(r.receipt_no, r.service, r.state) for r in result.requests] == [
        (receipt_no, "residence_certificate", "queued")
    ]
    journey.back()
    assert journey.step is Step.SERVICES and journey.session.my_requests is None


def test_my_requests_are_only_this_citizens(services: Services) -> None:
    """GIVEN another citizen's request in the outbox WHEN this citizen asks THEN it is not listed."""
    services.outbox.enqueue(service="residence_certificate", sealed=b"x", holder="someone-else")
    _login(services)
    services.journey.choose_service("my_requests")
    assert services.journey.session.my_requests.requests == ()


# -- rating ----------------------------------------------------------------------------------


def _to_done(services: Services) -> None:
    journey = services.journey
    _login(services)
    journey.choose_service("residence_certificate")
    for answer in ("bank", "599123456", "yes"):
        journey.answer(answer)
    journey.confirm()
    assert journey.step is Step.DONE


def test_rating_after_the_receipt_is_counted_without_the_person(services: Services) -> None:
    """GIVEN a receipt WHEN the person finishes and touches 5 THEN the session is already wiped on the rating screen,
    the count goes up, and the attract screen asks to take the card."""
    _to_done(services)
    services.journey.finish()
    assert services.journey.step is Step.RATING and services.journey.session.is_empty
    services.journey.rate(5)
    assert services.journey.step is Step.ATTRACT and services.journey.card_left_in
    [(day, scores)] = services.ratings.counts().items()
    assert scores == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}


def test_rating_stays_when_the_card_is_pulled_and_leaves_when_idle(services: Services, clock) -> None:
    """GIVEN the rating screen WHEN the card is pulled THEN it stays (nothing personal on it); when nobody
    touches it, it leaves after the countdown's length without counting anything."""
    _to_done(services)
    services.journey.finish()
    services.demo.reader.remove()
    assert services.journey.step is Step.RATING
    assert services.journey.countdown() is None  # no "session ends" box over a rating
    clock.advance(16)
    services.journey.tick()
    assert services.journey.step is Step.ATTRACT and not services.journey.card_left_in
    assert services.ratings.counts() == {}


def test_next_card_on_the_rating_screen_starts_a_session(services: Services) -> None:
    """GIVEN the rating screen after the card was taken WHEN the next villager inserts a card THEN their PIN is asked."""
    _to_done(services)
    services.journey.finish()
    services.demo.reader.remove()
    services.demo.reader.insert(services.demo.new_card())
    assert services.journey.step is Step.PIN


# -- secrets ---------------------------------------------------------------------------------


def test_no_pin_or_puk_in_logs_or_database(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN signing, PIN change and PUK unblock with known codes WHEN the logs and the database are read
    THEN none of the codes nor the personal number is there."""
    caplog.set_level(logging.DEBUG)
    journey = services.journey
    _to_sign_step(services)
    journey.sign(_pin("987650"))
    journey.sign(_pin(SIGN_PIN))
    journey.another_service()
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.AUTH)
    for code in ("1234", "8642", "8642"):
        journey.pin_service_enter(_pin(code))
    journey.leave_pin_service()
    journey.choose_service("puk_unblock")
    for code in ("12345678", "9753", "9753"):
        journey.pin_service_enter(_pin(code))
    assert journey.session.pin_flow.succeeded
    services.outbox.db.execute("PRAGMA wal_checkpoint(FULL)")
    blob = b"".join(p.read_bytes() for p in services.settings.kiosk.data_dir.glob("outbox.sqlite*"))
    text = caplog.text
    for secret in ("987650", SIGN_PIN, "8642", "12345678", "9753", DEMO_CITIZEN["personal_number"]):
        assert secret not in text
        assert secret.encode() not in blob
