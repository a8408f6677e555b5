"""The citizen journey on the real core with simulated card and printer (no Kivy)."""

from __future__ import annotations

import pytest

from hardware.demo_pki import DEMO_CITIZEN
from kiosk.ports import PaperState, PinKind, PinState
from kiosk.services import Services
from kiosk.session import Step
from offline.outbox import SubmissionState
from protocol.certificates import card_signature_valid
from protocol.presence import PresenceToken
from protocol.sealing import open_sealed

PHONE = "599123456"


def _insert(services: Services, **card_kwargs: object) -> None:
    services.demo.reader.insert(services.demo.new_card(**card_kwargs))


def _pin(text: str) -> bytearray:
    return bytearray(text.encode())


def _to_confirm(services: Services) -> None:
    journey = services.journey
    _insert(services)
    journey.enter_pin(_pin("1234"))
    journey.choose_service("residence_certificate")
    journey.answer("bank")
    journey.answer(PHONE)
    journey.answer("yes")
    assert journey.step is Step.CONFIRM


def test_whole_journey_queues_durably_then_prints(services: Services) -> None:
    """GIVEN the demo card WHEN the villager goes card → PIN → service → form → confirm
    THEN one request is queued (sealed), the receipt printed says "queued", and the card out wipes."""
    journey = services.journey
    _to_confirm(services)
    journey.confirm()
    assert journey.step is Step.DONE
    result = journey.session.result
    assert result.printed and not result.receipt.delivered
    assert result.receipt.masked_personal_number.endswith(DEMO_CITIZEN["personal_number"][-3:])
    assert DEMO_CITIZEN["personal_number"] not in result.receipt.masked_personal_number
    [queued] = services.outbox.list()
    assert queued.state is SubmissionState.QUEUED and queued.id == result.receipt.request_id
    assert [r.receipt.receipt_no for r in services.demo.printer.receipts] == [queued.receipt_no]
    # sealed: the hub's key opens it, and nothing personal is stored in clear
    row = services.outbox.db.execute("SELECT sealed FROM submissions").fetchone()
    payload = open_sealed(services.demo.hub_private_key, row[0])
    assert payload["citizen"]["personal_number"] == DEMO_CITIZEN["personal_number"]
    assert payload["answers"] == {"purpose": "bank", "phone": PHONE, "consent": "yes"}
    # the card's proof of presence goes sealed with it: the login challenge the card signed (no hub here: no nonce)
    token = PresenceToken.from_json(payload["presence"])
    assert token.challenge.kiosk_id == services.settings.kiosk.kiosk_id and token.challenge.hub_nonce is None
    assert token.certificate == services.demo.pki.citizen_auth.der
    assert card_signature_valid(services.demo.pki.citizen_auth.cert, token.challenge.to_be_signed(), token.signature)
    assert journey.session.presence == token
    services.demo.reader.remove()
    assert journey.step is Step.ATTRACT and journey.session.is_empty and journey.session.presence is None


def test_database_file_holds_no_personal_data(services: Services) -> None:
    """GIVEN a submitted request WHEN the SQLite files are read raw THEN no personal number, name or phone is there."""
    _to_confirm(services)
    services.journey.confirm()
    services.outbox.db.execute("PRAGMA wal_checkpoint(FULL)")
    data_dir = services.settings.kiosk.data_dir
    blob = b"".join(p.read_bytes() for p in data_dir.glob("outbox.sqlite*"))
    for secret in (DEMO_CITIZEN["personal_number"], DEMO_CITIZEN["surname"], PHONE):
        assert secret.encode() not in blob


def test_wrong_pins_count_down_then_block(services: Services) -> None:
    """GIVEN the demo card WHEN three wrong PINs are typed THEN tries left show 2, 1, then the PIN is blocked."""
    journey = services.journey
    _insert(services)
    assert journey.step is Step.PIN and journey.session.pin_status.tries_left == 3
    journey.enter_pin(_pin("0000"))
    assert journey.step is Step.PIN and journey.session.problem.params == {"tries": 2}
    journey.enter_pin(_pin("1111"))
    assert journey.session.pin_status.state is PinState.FINAL_TRY
    journey.enter_pin(_pin("2222"))
    assert journey.step is Step.PIN_BLOCKED
    services.demo.reader.remove()
    _insert(services, auth_pin="1234")  # a fresh card starts unblocked
    assert journey.step is Step.PIN


def test_pin_buffer_is_wiped_after_use(services: Services) -> None:
    """GIVEN a PIN in a bytearray WHEN it is used, right or wrong THEN the buffer is emptied."""
    _insert(services)
    wrong, right = _pin("9999"), _pin("1234")
    services.journey.enter_pin(wrong)
    services.journey.enter_pin(right)
    assert wrong == bytearray() and right == bytearray()


def test_card_pulled_mid_pin_ends_session(services: Services) -> None:
    """GIVEN the PIN screen WHEN the card is pulled THEN the session ends and a late PIN does nothing."""
    journey = services.journey
    _insert(services)
    services.demo.reader.remove()
    assert journey.step is Step.ATTRACT and journey.session.is_empty
    journey.enter_pin(_pin("1234"))
    assert journey.step is Step.ATTRACT


def test_form_validation_keeps_the_draft_and_says_how_to_fix(services: Services) -> None:
    """GIVEN the phone question WHEN a short number is typed THEN the form stays with the phone message."""
    journey = services.journey
    _insert(services)
    journey.enter_pin(_pin("1234"))
    journey.choose_service("residence_certificate")
    journey.answer("bank")
    journey.answer("5991")
    assert journey.step is Step.FORM and journey.session.problem.key == "form.error.phone"
    assert journey.session.draft == "5991"
    journey.answer(PHONE)
    assert journey.current_field.id == "consent"


def test_idle_timeout_counts_down_then_wipes(services: Services, clock) -> None:
    """GIVEN an authenticated session WHEN nobody touches the screen THEN a countdown shows, then it wipes."""
    journey = services.journey
    _insert(services)
    journey.enter_pin(_pin("1234"))
    clock.advance(44)
    journey.tick()
    assert journey.countdown() is None
    clock.advance(2)
    assert journey.countdown() == pytest.approx(14)
    journey.touch()  # "I need more time"
    assert journey.countdown() is None
    clock.advance(61)
    journey.tick()
    assert journey.step is Step.ATTRACT and journey.session.is_empty
    assert journey.card_left_in  # the attract screen now asks to take the card


def test_printer_out_of_paper_still_keeps_the_request(services: Services) -> None:
    """GIVEN the printer is out of paper WHEN the request is sent THEN it is queued and the screen is told why."""
    services.demo.printer.set_paper(PaperState.OUT)
    _to_confirm(services)
    services.journey.confirm()
    result = services.journey.session.result
    assert services.journey.step is Step.DONE
    assert not result.printed and result.print_error == "error.paper_out"
    assert services.outbox.stats()["queued"] == 1
    [(submission, reason)] = services.outbox.pending_reprints()  # staff see it, and why
    assert submission.id == result.receipt.request_id and reason == "error.paper_out"
    assert services.outbox.stats()["reprints_pending"] == 1
    services.outbox.mark_reprinted(submission.id)
    assert services.outbox.pending_reprints() == []


def test_outbox_failure_tells_the_truth(services: Services) -> None:
    """GIVEN the outbox cannot write WHEN the request is sent THEN the screen says it was not kept and nothing prints."""
    _to_confirm(services)
    services.outbox.db.execute("PRAGMA query_only = ON")
    services.journey.confirm()
    assert services.journey.step is Step.FAILED
    assert services.journey.session.problem.key == "error.not_queued"
    assert services.demo.printer.receipts == []
    services.outbox.db.execute("PRAGMA query_only = OFF")
    assert services.outbox.stats()["total"] == 0  # nothing half-written


def test_next_villager_starts_in_the_kiosk_language(services: Services) -> None:
    """GIVEN a villager who switched to English WHEN the session ends THEN the kiosk is back in Georgian."""
    _insert(services)
    services.translator.set_language("en")
    services.demo.reader.remove()
    assert services.translator.language == "ka"


def test_card_gone_during_login_ends_the_session_cleanly(services: Services) -> None:
    """GIVEN the PIN screen WHEN the card leaves while the kiosk is logging in (the card answers CardRemoved
    before the reader's event arrives) THEN the session ends, nothing of the citizen stays, no PIN try is lost."""
    journey = services.journey
    _insert(services)
    card = services.demo.reader.card
    card.present = False  # gone mid-operation: the PKCS#11 call fails before pcscd reports the removal
    journey.enter_pin(_pin("1234"))
    assert journey.step is Step.ATTRACT and journey.session.is_empty
    card.present = True
    assert card.pin_status(PinKind.AUTH).tries_left == 3
