"""Role gates of the kiosk's modes (``kiosk.staff_session``): who gets past the role login, and what it leaves.

The kiosk is wired by the real composition root with simulated card and printer; the role list is
signed by a hub key the test pins (no hub needed for the gate itself; the screens test enrols with
the real hub).
"""

from __future__ import annotations

import dataclasses

import pytest
from nacl.signing import SigningKey

from entrypoints.bootstrap import build_services
from hardware.simulated_card import SimulatedIdCard
from kiosk.audit import Actor, AuditAction
from kiosk.day_report import day_report, print_day_summary, summary_receipt
from kiosk.passcode import hash_passcode
from kiosk.roles import RoleStore
from kiosk.session import Step
from kiosk.staff_session import LoginStage, Mode
from protocol.sealing import open_sealed
from screens.role_login.gesture import Corner, CornerGesture, corner_at
from tests.fixtures.journey_run import submit_one
from tests.fixtures.role_lists import TEST_KIOSK_ID, pin_of, signed_role_list

STAFF = {"personal_number": "01001012345", "given_name": "Tamar", "surname": "Kapanadze"}
TECH = {"personal_number": "01001054321", "given_name": "Giorgi", "surname": "Beridze"}
PASSCODE = "482916"


@pytest.fixture(scope="module")
def passcode_hash() -> str:
    return hash_passcode(PASSCODE, n=2**14)


HUB_KEYS: dict = {}  # data folder -> the hub key a test kiosk pinned (Services is frozen)


@pytest.fixture
def kiosk(demo_settings, clock, passcode_hash):
    """The demo kiosk with a technician passcode (3 tries) and a role list from a pinned hub key."""
    settings = dataclasses.replace(demo_settings, access=dataclasses.replace(
        demo_settings.access, technician_passcode_hash=passcode_hash, passcode_max_tries=3, passcode_lockout_s=300))
    services = build_services(settings, clock=clock.wall, monotonic=clock.monotonic)
    services.card_reader.start(services.modes.on_card_event)  # as the app routes card events
    hub_key = SigningKey.generate()
    services.privileged.access.pin_hub(pin_of(hub_key))
    HUB_KEYS[services.settings.kiosk.data_dir] = hub_key
    grant(services, clock, [(STAFF, "staff"), (TECH, "technician")])
    yield services
    services.close()


def grant(services, clock, entries, days: float = 14) -> None:
    """Save a role list signed by the test's hub key, as the sync engine would."""
    hub_key = HUB_KEYS[services.settings.kiosk.data_dir]
    RoleStore(services.settings.kiosk.data_dir, pin_of(hub_key)).save(*signed_role_list(
        hub_key, TEST_KIOSK_ID, clock.wall(), [(p["personal_number"], r, p["given_name"]) for p, r in entries], days))


def card_of(services, person) -> SimulatedIdCard:
    pki = services.demo.pki
    pki = dataclasses.replace(pki, citizen_auth=pki.issue_citizen("authentication", citizen=person),
                              citizen_sign=pki.issue_citizen("signing", citizen=person))
    return SimulatedIdCard(pki)


def actions(services) -> list[str]:
    return [e.action for e in services.privileged.audit.entries()]


def test_a_citizen_card_is_refused_before_any_pin(kiosk) -> None:
    """GIVEN the role login open WHEN a villager's card goes in THEN refused with "no staff role", no PIN asked,
    no citizen session started, and the refusal is audited with a masked id."""
    modes = kiosk.modes
    assert modes.open_login() and modes.mode is Mode.LOGIN
    kiosk.demo.reader.insert(kiosk.demo.new_card())
    assert modes.mode is Mode.LOGIN and modes.login.stage is LoginStage.WAITING
    assert modes.login.problem.key == "role_login.refused.no_role"
    assert kiosk.journey.step is Step.ATTRACT and kiosk.journey.session.is_empty
    refused = kiosk.privileged.audit.last(AuditAction.ROLE_REFUSED)
    assert refused.actor_id == "*******5083" and refused.details["reason"] == "unknown_person"


def test_staff_card_and_pin_open_staff_mode_and_card_events_stay_out_of_the_journey(kiosk) -> None:
    """GIVEN a staff card WHEN it goes in, a wrong PIN then the right one THEN staff mode opens after the
    challenge-response; a card in staff mode starts no citizen session; leaving logs out."""
    modes = kiosk.modes
    modes.open_login()
    kiosk.demo.reader.insert(card_of(kiosk, STAFF))
    assert modes.login.stage is LoginStage.PIN
    modes.enter_pin(bytearray(b"0000"))
    assert modes.mode is Mode.LOGIN and modes.login.problem.key == "error.pin_incorrect"
    pin = bytearray(b"1234")
    modes.enter_pin(pin)
    assert not any(pin)  # wiped
    assert modes.mode is Mode.STAFF and modes.actor.masked_id == "*******2345"
    kiosk.demo.reader.remove()
    kiosk.demo.reader.insert(kiosk.demo.new_card())
    assert kiosk.journey.step is Step.ATTRACT and modes.mode is Mode.STAFF
    modes.leave()
    assert modes.mode is Mode.CITIZEN and modes.actor is None
    assert actions(kiosk)[-2:] == ["role.login", "role.logout"]


def test_a_staff_card_pulled_while_its_pin_is_checked_opens_nothing(kiosk) -> None:
    """GIVEN the staff card read on the card thread (a slow card: 0.3 s an operation) WHEN its PIN is typed THEN
    the call returns at once, "checking with your card" shows; WHEN the card is pulled before it answers THEN the
    login is back to "insert your card", and the card's late answer opens no staff mode."""
    from tests.fixtures.ui_loop import UiLoop

    ui = UiLoop()
    modes, work = kiosk.modes, kiosk.journey.card_work
    work.use_thread(ui.post)
    modes.open_login()
    card = card_of(kiosk, STAFF)
    card._delay_s = 0.3
    kiosk.demo.reader.insert(card)
    ui.pump(lambda: modes.login.stage is LoginStage.PIN)
    modes.enter_pin(bytearray(b"1234"))
    assert modes.mode is Mode.LOGIN and work.busy == "busy.card"
    kiosk.demo.reader.remove()
    assert modes.login.stage is LoginStage.WAITING and modes.login.holder is None and work.busy is None
    ui.drain(0.8)
    assert modes.mode is Mode.LOGIN and modes.actor is None and "role.login" not in actions(kiosk)


def test_the_technician_card_opens_technician_mode(kiosk) -> None:
    """GIVEN a technician on the list WHEN the card and PIN are given THEN technician mode."""
    kiosk.modes.open_login()
    kiosk.demo.reader.insert(card_of(kiosk, TECH))
    kiosk.modes.enter_pin(bytearray(b"1234"))
    assert kiosk.modes.mode is Mode.TECHNICIAN


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_a_revoked_role_or_an_expired_list_is_refused(kiosk, clock, change: str) -> None:
    """GIVEN staff admitted once WHEN the hub takes the role away (new list) or the list expires THEN the same
    card is refused, with words that say why."""
    if change == "revoked":
        clock.advance(60)  # the hub issues the new list later than the first (an equal issued_at changes nothing)
        grant(kiosk, clock, [(TECH, "technician")])
    else:
        clock.advance(15 * 86_400)
    kiosk.modes.open_login()
    kiosk.demo.reader.insert(card_of(kiosk, STAFF))
    want = "role_login.refused.no_role" if change == "revoked" else "role_login.refused.no_list"
    assert kiosk.modes.mode is Mode.LOGIN and kiosk.modes.login.problem.key == want


def test_the_passcode_works_offline_and_locks_after_the_tries(kiosk, clock) -> None:
    """GIVEN no hub at all WHEN the passcode is typed wrong three times, then right while locked, then right
    after the lockout THEN tries left, a lockout saying the minutes, refused while locked, then technician."""
    modes = kiosk.modes
    modes.open_login()
    modes.use_passcode()
    modes.enter_passcode(bytearray(b"111111"))
    assert (modes.login.problem.key, modes.login.problem.params) == ("role_login.passcode_wrong", {"tries": 2})
    modes.enter_passcode(bytearray(b"222222"))
    modes.enter_passcode(bytearray(b"333333"))
    assert (modes.login.problem.key, modes.login.problem.params) == ("role_login.passcode_locked", {"minutes": 5})
    modes.enter_passcode(bytearray(PASSCODE.encode()))
    assert modes.mode is Mode.LOGIN
    clock.advance(301)
    modes.enter_passcode(bytearray(PASSCODE.encode()))
    assert modes.mode is Mode.TECHNICIAN and modes.actor.masked_id == "passcode"
    assert actions(kiosk)[-5:] == ["passcode.refused", "passcode.refused", "passcode.locked", "passcode.locked",
                                   "passcode.ok"]


def test_the_login_only_opens_from_an_idle_attract_screen(kiosk) -> None:
    """GIVEN a villager in the middle of a session WHEN the gesture fires THEN no login opens."""
    kiosk.demo.reader.insert(kiosk.demo.new_card())
    assert kiosk.journey.step is Step.PIN
    assert kiosk.modes.open_login() is False and kiosk.modes.mode is Mode.CITIZEN


def test_an_assisted_request_carries_assisted_by_sealed_and_in_the_audit_log(kiosk) -> None:
    """GIVEN staff starting an assisted session WHEN the villager sends a request THEN its sealed payload says
    who assisted (masked id), the audit log has start, request and end, and the next visit is not assisted."""
    modes = kiosk.modes
    modes.open_login()
    kiosk.demo.reader.insert(card_of(kiosk, STAFF))
    kiosk.modes.enter_pin(bytearray(b"1234"))
    kiosk.demo.reader.remove()
    modes.start_assisted()
    assert modes.mode is Mode.CITIZEN and kiosk.journey.assisted_by == "*******2345"
    request_id = submit_one(kiosk)
    kiosk.demo.reader.remove()
    sealed = kiosk.outbox.db.execute("SELECT sealed FROM submissions WHERE id = ?", [request_id]).fetchone()[0]
    payload = open_sealed(kiosk.demo.hub_private_key, sealed)
    assert payload["assisted_by"] == "*******2345"
    assert [a for a in actions(kiosk) if a.startswith("assisted.")] == ["assisted.start", "assisted.request",
                                                                         "assisted.end"]
    assert kiosk.journey.assisted_by == ""
    other = submit_one(kiosk)
    sealed = kiosk.outbox.db.execute("SELECT sealed FROM submissions WHERE id = ?", [other]).fetchone()[0]
    assert "assisted_by" not in open_sealed(kiosk.demo.hub_private_key, sealed)


def test_a_silent_privileged_mode_closes_after_the_idle_timeout(kiosk, clock) -> None:
    """GIVEN technician mode WHEN nobody touches it for the idle timeout THEN back to citizen mode, logged out."""
    modes = kiosk.modes
    modes.open_login()
    modes.use_passcode()
    modes.enter_passcode(bytearray(PASSCODE.encode()))
    clock.advance(kiosk.settings.kiosk.idle_timeout_s - kiosk.settings.kiosk.idle_countdown_s + 1)
    modes.tick()
    assert modes.mode is Mode.TECHNICIAN and modes.countdown() is not None
    clock.advance(kiosk.settings.kiosk.idle_countdown_s)
    modes.tick()
    assert modes.mode is Mode.CITIZEN and actions(kiosk)[-1] == "role.logout"


def test_the_day_report_and_its_printed_summary(kiosk, clock) -> None:
    """GIVEN two requests and a rating today WHEN the day's report is made and its summary printed THEN per service,
    per state and ratings count them, the summary holds no personal data, and the print is audited."""
    submit_one(kiosk)
    kiosk.journey.finish()
    kiosk.journey.rate(4)
    kiosk.demo.reader.remove()
    submit_one(kiosk)
    report = day_report(kiosk.outbox, kiosk.ratings, kiosk.local_time.today(), kiosk.local_time.tz)
    assert report.total == 2 and report.per_state["queued"] == 2 and report.ratings["4"] == 1
    receipt = summary_receipt(report, tr=lambda k, **p: kiosk.translator(k, "en", **p), language="en",
                              catalogue=kiosk.catalogue(), kiosk_id="KSK-0001", centre_name="Sno",
                              printed_at=clock.wall())
    text = " ".join(line.text for line in receipt.lines)
    assert "Total: 2" in text and "01001015083" not in text and "Nino" not in text
    print_day_summary(Actor("staff", "*******2345"), kiosk.privileged.audit, kiosk.printer, receipt, report)
    assert kiosk.demo.printer.receipts[-1].receipt.receipt_no == receipt.receipt_no
    assert [e.details for e in kiosk.privileged.audit.entries() if e.action == "staff.day_summary"] == [
        {"day": report.day.isoformat(), "requests": 2, "outcome": "printed"}]


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("hold", "gap", "second", "opens"), [
    (3.1, 1.0, Corner.BOTTOM_RIGHT, True),
    (2.5, 1.0, Corner.BOTTOM_RIGHT, False),  # held too briefly
    (3.1, 3.5, Corner.BOTTOM_RIGHT, False),  # second tap too late
    (3.1, 1.0, Corner.TOP_LEFT, False),  # the same corner again
    (3.1, 1.0, None, False),  # a tap elsewhere
])
def test_the_hidden_gesture(hold: float, gap: float, second, opens: bool) -> None:
    """GIVEN the corner gesture WHEN held and tapped with these timings and places THEN it opens only when right."""
    ticks = Ticks()
    gesture = CornerGesture(ticks)
    assert gesture.down(Corner.TOP_LEFT) is False
    ticks.now += hold
    gesture.up(Corner.TOP_LEFT)
    ticks.now += gap
    assert gesture.down(second) is opens


def test_corners_are_found_in_window_coordinates() -> None:
    """GIVEN a 1280×800 window WHEN points are placed THEN top-left and bottom-right corners (Kivy's y goes up)."""
    assert corner_at(5, 795, 1280, 800, 80) is Corner.TOP_LEFT
    assert corner_at(1275, 5, 1280, 800, 80) is Corner.BOTTOM_RIGHT
    assert corner_at(5, 5, 1280, 800, 80) is None and corner_at(640, 400, 1280, 800, 80) is None
