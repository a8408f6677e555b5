"""The CardReader contract, written once and run against every implementation.

Each implementation comes with a small driver that can put a card in and take it out: the
simulated twin through ``insert()`` / ``remove()``, the PC/SC adapter through pcscd, vpcd and
a virtual card. The PC/SC variant skips where its real parts are missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from hardware.demo_pki import DemoPki, load_or_make_demo_pki
from hardware.simulated_card import DEMO_ATR, SimulatedCardReader, SimulatedIdCard
from kiosk.ports import CardEventKind, CardReader
from tests.fixtures.clock import WORLD_NOW
from tests.fixtures.vpcd_card import VirtualCard, vpcd_reader_name

K = CardEventKind
# pcscd sees a vpcd card at its next poll (every 0.4 s); the kiosk promises a second.
EVENT_TIMEOUT_S = 1.0


@dataclass
class ReaderRig:
    """One implementation under test and the hands that work its reader."""

    reader: CardReader
    reader_name: str
    atr: bytes
    insert: Callable[[], None]
    remove: Callable[[], None]
    settle_s: float  # how long an event may take to arrive, to wait out before saying "none came"


@pytest.fixture(scope="module")
def contract_demo_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """A demo PKI for the simulated cards (the contract never reads their certificates)."""
    return load_or_make_demo_pki(tmp_path_factory.mktemp("contract-pki"), WORLD_NOW)


def _simulated_rig(request: pytest.FixtureRequest) -> ReaderRig:
    reader = SimulatedCardReader()
    card = SimulatedIdCard(request.getfixturevalue("contract_demo_pki"))
    return ReaderRig(reader, reader.name, DEMO_ATR, lambda: reader.insert(card), reader.remove, 0.0)


def _pcsc_rig(request: pytest.FixtureRequest) -> ReaderRig:
    request.getfixturevalue("pcscd_running")
    reader = request.getfixturevalue("pcsc_card_reader")
    card: VirtualCard = request.getfixturevalue("virtual_card")
    return ReaderRig(reader, vpcd_reader_name(0), card.atr, card.insert, card.remove, EVENT_TIMEOUT_S)


@pytest.fixture(params=["simulated", "pcsc"])
def rig(request: pytest.FixtureRequest) -> Iterator[ReaderRig]:
    """A reader implementation with its driver; stopped after the test."""
    make = {"simulated": _simulated_rig, "pcsc": _pcsc_rig}[request.param]
    built = make(request)
    try:
        yield built
    finally:
        built.reader.stop()


def test_lists_its_reader_empty_at_first(rig: ReaderRig) -> None:
    """GIVEN a reader with no card
    WHEN readers() is called
    THEN the reader is listed with no card, no ATR and a yes/no PIN pad answer."""
    info = next(r for r in rig.reader.readers() if r.name == rig.reader_name)
    assert not info.card_present and info.atr is None
    assert isinstance(info.has_pinpad, bool)


def test_insert_then_remove_are_reported_with_the_atr(rig: ReaderRig, card_event_recorder) -> None:
    """GIVEN a started reader
    WHEN a card is inserted and then removed
    THEN the listener hears CARD_INSERTED with the card's ATR, then CARD_REMOVED, and readers()
    shows the card (with its ATR) only while it is in."""
    rig.reader.start(card_event_recorder)
    rig.insert()
    inserted = card_event_recorder.wait_for(K.CARD_INSERTED, rig.reader_name, EVENT_TIMEOUT_S)
    assert inserted.atr == rig.atr
    info = next(r for r in rig.reader.readers() if r.name == rig.reader_name)
    assert info.card_present and info.atr == rig.atr

    rig.remove()
    card_event_recorder.wait_for(K.CARD_REMOVED, rig.reader_name, EVENT_TIMEOUT_S)
    info = next(r for r in rig.reader.readers() if r.name == rig.reader_name)
    assert not info.card_present and info.atr is None


def test_each_visit_is_one_insertion_and_one_removal(rig: ReaderRig, card_event_recorder) -> None:
    """GIVEN a started reader
    WHEN three villagers in turn insert and remove their card
    THEN the card events alternate: inserted, removed, three times, nothing doubled."""
    rig.reader.start(card_event_recorder)
    for _ in range(3):
        mark = card_event_recorder.mark()
        rig.insert()
        card_event_recorder.wait_for(K.CARD_INSERTED, rig.reader_name, EVENT_TIMEOUT_S, after=mark)
        rig.remove()
        card_event_recorder.wait_for(K.CARD_REMOVED, rig.reader_name, EVENT_TIMEOUT_S, after=mark)
    card_kinds = [k for k in card_event_recorder.kinds(rig.reader_name) if k in (K.CARD_INSERTED, K.CARD_REMOVED)]
    assert card_kinds == [K.CARD_INSERTED, K.CARD_REMOVED] * 3


def test_nothing_is_reported_after_stop(rig: ReaderRig, card_event_recorder) -> None:
    """GIVEN a reader that was started and then stopped
    WHEN a card is inserted
    THEN the listener hears nothing of it."""
    rig.reader.start(card_event_recorder)
    rig.reader.stop()
    rig.insert()
    time.sleep(rig.settle_s)
    assert K.CARD_INSERTED not in card_event_recorder.kinds(rig.reader_name)
