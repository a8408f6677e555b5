"""PcscCardReader against real parts: pcscd, vsmartcard's vpcd driver and a virtual card.

The first tests need none of that: they check how snapshots become events and how a reader's
CCID feature list is read. The rest run a private pcscd (see ``conftest.py``) and skip with
the reason when pcscd, vpcd or pyscard is missing.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from hardware.pcsc_reader import (
    FEATURE_MODIFY_PIN_DIRECT,
    FEATURE_VERIFY_PIN_DIRECT,
    PcscCardReader,
    card_events,
    feature_tags,
)
from kiosk.errors import ReaderUnavailable
from kiosk.ports import CardEvent, CardEventKind
from tests.fixtures.vpcd_card import TEST_ATR, VirtualCard, vpcd_reader_name

K = CardEventKind
SLOT0, SLOT1 = vpcd_reader_name(0), vpcd_reader_name(1)
OTHER_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")

# -- snapshots to events (no pcscd needed) -----------------------------------------------------


def test_card_events_come_from_set_differences() -> None:
    """GIVEN two snapshots of readers and cards
    WHEN they are compared
    THEN what left is reported removed and what arrived is reported added, with the ATR."""
    before = {"A": None, "B": TEST_ATR}
    now = {"A": OTHER_ATR, "C": None}
    assert card_events(before, now) == [
        CardEvent(K.CARD_REMOVED, "B"),
        CardEvent(K.READER_REMOVED, "B"),
        CardEvent(K.READER_ADDED, "C"),
        CardEvent(K.CARD_INSERTED, "A", OTHER_ATR),
    ]


def test_card_swapped_between_two_looks_is_a_removal_and_an_insertion() -> None:
    """GIVEN a reader whose card was exchanged for another between two snapshots
    WHEN they are compared
    THEN the old card is removed and the new one inserted, and the reader stays."""
    assert card_events({"A": TEST_ATR}, {"A": OTHER_ATR}) == [
        CardEvent(K.CARD_REMOVED, "A"),
        CardEvent(K.CARD_INSERTED, "A", OTHER_ATR),
    ]
    assert card_events({"A": TEST_ATR}, {"A": TEST_ATR}) == []


def test_feature_list_tells_a_pinpad_reader() -> None:
    """GIVEN a reader's answer to GET_FEATURE_REQUEST (tag, length 4, control code; repeated)
    WHEN its tags are read
    THEN VERIFY_PIN_DIRECT and MODIFY_PIN_DIRECT are found."""
    answer = bytes.fromhex("0604 42330006" "0704 42330007" "1204 42330012".replace(" ", ""))
    assert feature_tags(answer) == {FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT, 0x12}
    assert feature_tags(b"") == set()


# -- through pcscd and vpcd ------------------------------------------------------------------


def test_readers_lists_the_vpcd_slots_without_card_or_pinpad(pcscd_running, pcsc_card_reader) -> None:
    """GIVEN pcscd with the vpcd driver and no card
    WHEN the adapter is asked for its readers
    THEN both virtual slots are listed, empty, and without a PIN pad (vpcd has no CCID features)."""
    infos = {r.name: r for r in pcsc_card_reader.readers()}
    assert set(infos) == {SLOT0, SLOT1}
    assert all(not r.card_present and r.atr is None and not r.has_pinpad for r in infos.values())


def test_start_reports_the_readers_already_attached(pcscd_running, pcsc_card_reader, card_event_recorder) -> None:
    """GIVEN pcscd running with two virtual readers
    WHEN monitoring starts
    THEN each reader is reported as added."""
    pcsc_card_reader.start(card_event_recorder)
    card_event_recorder.wait_for(K.READER_ADDED, SLOT0)
    card_event_recorder.wait_for(K.READER_ADDED, SLOT1)


def test_insert_and_remove_are_reported_within_a_second(
    pcscd_running, pcsc_card_reader, virtual_card: VirtualCard, card_event_recorder
) -> None:
    """GIVEN monitoring of an empty reader
    WHEN the virtual card is inserted and later removed
    THEN CARD_INSERTED with the card's ATR, then CARD_REMOVED, each arrive within 1 s,
    and readers() tells the card and its ATR while it is in."""
    pcsc_card_reader.start(card_event_recorder)
    card_event_recorder.wait_for(K.READER_ADDED, SLOT0)

    virtual_card.insert()
    inserted = card_event_recorder.wait_for(K.CARD_INSERTED, SLOT0, timeout_s=1.0)
    assert inserted.atr == TEST_ATR
    info = next(r for r in pcsc_card_reader.readers() if r.name == SLOT0)
    assert info.card_present and info.atr == TEST_ATR

    virtual_card.remove()
    card_event_recorder.wait_for(K.CARD_REMOVED, SLOT0, timeout_s=1.0)
    info = next(r for r in pcsc_card_reader.readers() if r.name == SLOT0)
    assert not info.card_present and info.atr is None


def test_card_already_in_at_start_is_reported(
    pcscd_running, pcsc_card_reader, virtual_card: VirtualCard, card_event_recorder
) -> None:
    """GIVEN a card left in the reader before the kiosk started
    WHEN monitoring starts
    THEN the card is reported inserted, so the kiosk can greet the villager."""
    virtual_card.atr = OTHER_ATR
    virtual_card.insert()
    _wait_until(lambda: any(r.card_present for r in pcsc_card_reader.readers()), 2.0)
    pcsc_card_reader.start(card_event_recorder)
    assert card_event_recorder.wait_for(K.CARD_INSERTED, SLOT0).atr == OTHER_ATR
    assert card_event_recorder.kinds(SLOT0)[:2] == [K.READER_ADDED, K.CARD_INSERTED]


def test_apdu_exchange_through_pyscard_reaches_the_virtual_card(pcscd_running, virtual_card: VirtualCard) -> None:
    """GIVEN the virtual card in vpcd's first slot
    WHEN pyscard connects and sends SELECT, then an instruction the card does not know
    THEN the card receives both and answers 9000 and 6D00."""
    from smartcard.System import readers

    virtual_card.insert()
    reader = next(r for r in readers() if str(r) == SLOT0)
    connection = reader.createConnection()
    try:
        _wait_until(lambda: _connects(connection), 2.0)
        select = [0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00]
        assert connection.transmit(select)[1:] == (0x90, 0x00)
        assert connection.transmit([0x00, 0xEE, 0x00, 0x00])[1:] == (0x6D, 0x00)
    finally:
        connection.release()  # now, not in pyscard's __del__ after pcscd may be gone
    assert virtual_card.apdus == [bytes(select), bytes.fromhex("00EE0000")]


def test_pcscd_restart_is_survived(
    pcscd_running, pcsc_card_reader, virtual_card: VirtualCard, card_event_recorder
) -> None:
    """GIVEN monitoring with a card in the reader
    WHEN pcscd restarts
    THEN the card and the readers are reported gone, the readers come back,
    and a card inserted afterwards is reported."""
    pcsc_card_reader.start(card_event_recorder)
    virtual_card.insert()
    card_event_recorder.wait_for(K.CARD_INSERTED, SLOT0)
    before_restart = card_event_recorder.mark()

    pcscd_running.restart()
    card_event_recorder.wait_for(K.READER_ADDED, SLOT0, timeout_s=3.0, after=before_restart)
    mark = card_event_recorder.mark()
    virtual_card.insert()  # vpcd hung up on the card when the old pcscd exited
    assert card_event_recorder.wait_for(K.CARD_INSERTED, SLOT0, after=mark).atr == TEST_ATR

    slot0 = [e.kind for e in card_event_recorder.events[before_restart:] if e.reader == SLOT0]
    assert slot0 == [K.CARD_REMOVED, K.READER_REMOVED, K.READER_ADDED, K.CARD_INSERTED]


def test_without_pcscd_it_says_so_keeps_retrying_and_recovers(
    pcscd_stopped, pcsc_card_reader, virtual_card: VirtualCard, card_event_recorder, caplog
) -> None:
    """GIVEN no pcscd running
    WHEN the adapter is asked for readers, and monitoring starts
    THEN readers() raises ReaderUnavailable, the monitor logs "PC/SC service not running" once
    while it retries, and once pcscd starts the readers and a card are reported."""
    caplog.set_level(logging.INFO, logger="hardware.pcsc_reader")
    with pytest.raises(ReaderUnavailable):
        pcsc_card_reader.readers()

    pcsc_card_reader.start(card_event_recorder)
    time.sleep(0.8)  # several retries at the fixture's 0.05-0.2 s backoff
    warnings = [r for r in caplog.records if "PC/SC service not running" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert card_event_recorder.events == []

    pcscd_stopped.start()
    card_event_recorder.wait_for(K.READER_ADDED, SLOT0, timeout_s=2.0)
    virtual_card.insert()
    card_event_recorder.wait_for(K.CARD_INSERTED, SLOT0)
    assert any("PC/SC service is back" in r.getMessage() for r in caplog.records)


def test_stop_ends_a_blocked_wait_at_once(pcscd_running, card_event_recorder) -> None:
    """GIVEN a monitor blocked in SCardGetStatusChange with a 30 s timeout
    WHEN stop() is called
    THEN it returns well under a second (SCardCancel wakes the wait) and the thread is gone."""
    reader = PcscCardReader(wait_timeout_s=30)
    reader.start(card_event_recorder)
    card_event_recorder.wait_for(K.READER_ADDED, SLOT1)
    time.sleep(0.1)  # let the thread enter the wait
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 0.5
    assert not any(t.name == "pcsc-monitor" for t in threading.enumerate())


def test_a_failing_listener_does_not_stop_monitoring(
    pcscd_running, pcsc_card_reader, virtual_card: VirtualCard
) -> None:
    """GIVEN a listener that raises on every reader event
    WHEN a card is inserted afterwards
    THEN the insertion still reaches the listener: the monitor thread survived."""
    seen: list[CardEvent] = []

    def flaky(event: CardEvent) -> None:
        seen.append(event)
        if event.kind is K.READER_ADDED:
            raise RuntimeError("listener bug")

    pcsc_card_reader.start(flaky)
    virtual_card.insert()
    _wait_until(lambda: any(e.kind is K.CARD_INSERTED for e in seen), 2.0)


def _connects(connection) -> bool:
    from smartcard.Exceptions import CardConnectionException, NoCardException

    try:
        connection.connect()
    except (NoCardException, CardConnectionException):
        return False
    return True


def _wait_until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(0.02)
