"""Card work off the UI thread: one card thread, answers read back on the "UI thread" (here: the test's
thread draining a queue, as Kivy's clock would), late answers of an ended session dropped, and the
journey on a slow simulated card keeping its caller free."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.card_work import Answer, CardWork
from kiosk.errors import CardRemoved
from kiosk.services import Services
from kiosk.session import Step
from tests.fixtures.ui_loop import UiLoop

SLOW_S = 0.3  # the slow card's time per operation (a real card: 0.5-1 s for a signature)


@pytest.fixture
def ui() -> UiLoop:
    return UiLoop()


@pytest.fixture
def work(ui: UiLoop) -> Iterator[CardWork]:
    card_work = CardWork()
    card_work.use_thread(ui.post)
    yield card_work
    card_work.close()


def test_a_job_runs_on_the_card_thread_and_its_answer_on_the_ui_thread(work: CardWork, ui: UiLoop) -> None:
    """GIVEN card work on a thread WHEN a job runs THEN it runs off the caller's thread, ``run`` returns at once,
    ``busy`` says what the screen shows meanwhile, and the answer is read on the UI thread."""
    seen: dict[str, object] = {}
    started = time.monotonic()
    work.run(lambda: (time.sleep(SLOW_S), threading.current_thread())[1],
             lambda answer: seen.update(job=answer.get(), then=threading.current_thread()))
    assert time.monotonic() - started < SLOW_S / 3
    assert work.busy == "busy.card" and not work.idle and not seen
    ui.pump(lambda: "then" in seen)
    assert seen["job"] is not ui.thread and seen["then"] is ui.thread
    assert work.busy is None and work.idle


def test_an_error_is_raised_where_the_answer_is_read(work: CardWork, ui: UiLoop) -> None:
    """GIVEN a job that fails (the card was pulled) WHEN its answer is read THEN ``get`` raises that error there."""
    caught: list[BaseException] = []

    def then(answer: Answer[None]) -> None:
        with pytest.raises(CardRemoved) as raised:
            answer.get()
        caught.append(raised.value)

    work.run(lambda: (_ for _ in ()).throw(CardRemoved()), then)
    ui.pump(lambda: bool(caught))


def test_jobs_run_one_at_a_time_in_order(work: CardWork, ui: UiLoop) -> None:
    """GIVEN five jobs handed over at once WHEN they run THEN never two at the same time, in the order given."""
    spans: list[tuple[int, float, float]] = []
    answers: list[int] = []
    for n in range(5):
        def job(n: int = n) -> int:
            start = time.monotonic()
            time.sleep(0.03)
            spans.append((n, start, time.monotonic()))
            return n

        work.run(job, lambda answer: answers.append(answer.get()))
    ui.pump(lambda: len(answers) == 5)
    assert answers == [0, 1, 2, 3, 4] and [n for n, _, _ in spans] == answers
    assert all(later[1] >= earlier[2] for earlier, later in zip(spans, spans[1:], strict=False))


def test_a_late_answer_of_an_ended_session_is_dropped(work: CardWork, ui: UiLoop) -> None:
    """GIVEN a slow job out WHEN the session ends (``forget``) before it answers THEN ``busy`` clears at once and
    its answer never reaches the UI, while a job of the next session is answered."""
    answers: list[str] = []
    work.run(lambda: (time.sleep(SLOW_S), "old card")[1], lambda answer: answers.append(answer.get()))
    work.forget()
    assert work.busy is None and work.idle
    work.run(lambda: "new card", lambda answer: answers.append(answer.get()))
    ui.pump(lambda: bool(answers))
    ui.drain(0.1)
    assert answers == ["new card"]


def test_a_pin_handed_to_a_job_is_wiped_whether_it_ran_or_was_skipped(work: CardWork, ui: UiLoop) -> None:
    """GIVEN two PIN buffers, the first job holding the card thread WHEN the session ends before the second
    starts THEN the second never runs, and both PINs are overwritten anyway."""
    release, ran = threading.Event(), []
    first, second = bytearray(b"1234"), bytearray(b"5678")
    work.run(lambda: (release.wait(5), ran.append("first")), lambda _a: None, secrets=(first,))
    work.run(lambda: ran.append("second"), lambda _a: None, secrets=(second,))
    work.forget()
    release.set()
    ui.drain(0.2)
    assert ran == ["first"]
    assert first == bytearray() and second == bytearray()


def test_without_a_thread_a_job_runs_at_once() -> None:
    """GIVEN card work never moved to a thread (the CLI, the core's tests) WHEN a job runs THEN its answer is read
    before ``run`` returns, on the same thread."""
    work, answers = CardWork(), []
    work.run(lambda: threading.current_thread(), lambda answer: answers.append(answer.get()))
    assert answers == [threading.current_thread()] and work.idle and work.busy is None


# -- the journey on a slow card ---------------------------------------------------------------------


@pytest.fixture
def threaded(services: Services, ui: UiLoop) -> Services:
    services.journey.card_work.use_thread(ui.post)
    return services


def _slow_card_in(services: Services, ui: UiLoop) -> None:
    services.demo.reader.insert(services.demo.new_card(delay_s=SLOW_S))
    assert services.journey.step is Step.READING and services.journey.busy == "busy.card"
    ui.pump(lambda: services.journey.step is Step.PIN)


def test_the_pin_is_checked_without_holding_the_screen(threaded: Services, ui: UiLoop) -> None:
    """GIVEN a card taking 0.3 s per operation WHEN the PIN is typed THEN ``enter_pin`` returns at once with the
    screen still on the PIN and "checking with your card" up, the digits are wiped once the card is done, every
    redraw happens on the UI thread, and the services follow."""
    journey = threaded.journey
    redraws: list[threading.Thread] = []
    journey.subscribe(lambda _step: redraws.append(threading.current_thread()))
    _slow_card_in(threaded, ui)
    pin = bytearray(b"1234")
    started = time.monotonic()
    journey.enter_pin(pin)
    assert time.monotonic() - started < SLOW_S / 3
    assert journey.step is Step.PIN and journey.busy == "busy.card"
    ui.pump(lambda: journey.step is Step.SERVICES)
    assert pin == bytearray() and journey.busy is None and journey.session.presence is not None
    assert redraws and set(redraws) == {ui.thread}


def test_a_second_pin_while_the_card_answers_is_refused_and_cancel_still_works(threaded: Services,
                                                                               ui: UiLoop) -> None:
    """GIVEN a PIN being checked WHEN another PIN arrives THEN it is refused and wiped without reaching the card;
    WHEN the villager cancels THEN the session ends at once and the late answer is dropped."""
    journey = threaded.journey
    _slow_card_in(threaded, ui)
    journey.enter_pin(bytearray(b"1234"))
    again = bytearray(b"1234")
    journey.enter_pin(again)
    assert again == bytearray()
    journey.finish()
    assert journey.step is Step.ATTRACT and journey.busy is None and journey.session.is_empty
    ui.drain(SLOW_S * 2)
    assert journey.step is Step.ATTRACT and journey.session.is_empty


def test_a_card_pulled_mid_login_ends_the_session_at_once_and_the_next_card_starts_clean(
        threaded: Services, ui: UiLoop) -> None:
    """GIVEN a slow login out WHEN the card is pulled THEN the session ends at once (no waiting for the card);
    WHEN the next villager's card goes in THEN it waits behind the old card's last answer, which is dropped: the
    new session stands at its own PIN with no proof of presence."""
    journey = threaded.journey
    _slow_card_in(threaded, ui)
    journey.enter_pin(bytearray(b"1234"))
    threaded.demo.reader.remove()  # the old card's login is already on the card thread
    assert journey.step is Step.ATTRACT and journey.session.is_empty and journey.busy is None
    threaded.demo.reader.insert(threaded.demo.new_card(delay_s=SLOW_S))
    assert journey.step is Step.READING
    ui.pump(lambda: journey.step is Step.PIN)
    ui.drain(SLOW_S * 2)
    assert journey.step is Step.PIN and journey.session.presence is None and journey.session.citizen is not None


def test_the_idle_timeout_ends_a_session_whose_card_never_answers(threaded: Services, ui: UiLoop,
                                                                 clock: object) -> None:
    """GIVEN a login whose card hangs WHEN the idle time passes THEN the countdown still ends the session (the
    UI thread is free to tick), and the answer that comes later is dropped."""
    journey = threaded.journey
    _slow_card_in(threaded, ui)
    journey.enter_pin(bytearray(b"1234"))
    clock.advance(threaded.settings.kiosk.idle_timeout_s + 1)  # type: ignore[attr-defined]
    journey.tick()
    assert journey.step is Step.ATTRACT and journey.session.is_empty and journey.busy is None
    ui.drain(SLOW_S * 2)
    assert journey.step is Step.ATTRACT and journey.session.presence is None


def test_a_card_pulled_while_signing_ends_the_session_and_queues_nothing(threaded: Services, ui: UiLoop) -> None:
    """GIVEN a signed service at its signing PIN on a slow card WHEN the card is pulled while it signs THEN the
    session ends at once, and nothing is queued or printed."""
    journey = threaded.journey
    _slow_card_in(threaded, ui)
    journey.enter_pin(bytearray(b"1234"))
    ui.pump(lambda: journey.step is Step.SERVICES)
    from tests.fixtures.journey_run import answer_for

    service = next(s for s in journey.catalogue.services if s.needs_signature)
    journey.choose_service(service.id)
    while journey.step is Step.FORM:
        journey.answer(answer_for(journey.current_field, journey))
    journey.confirm()
    ui.pump(lambda: journey.step is Step.SIGN)
    journey.sign(bytearray(b"123456"))
    threaded.demo.reader.remove()
    assert journey.step is Step.ATTRACT and journey.session.is_empty
    ui.drain(SLOW_S * 3)
    assert threaded.outbox.list() == [] and threaded.demo.printer.receipts == []
