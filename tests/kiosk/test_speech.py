"""Audio guidance over a whole journey: what is spoken, when, and that it is never personal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hardware.demo_pki import DEMO_CITIZEN
from hardware.espeak_speaker import EspeakSpeaker
from kiosk.ports import PinKind
from kiosk.services import Services
from kiosk.speech import AudioGuide, NullSpeaker


class RecordingSpeaker:
    """Keeps what it was asked to say (a fake: the test reads the sentences, espeak-ng tests are separate)."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.stops = 0

    def say(self, text: str, language: str) -> None:
        self.said.append((text, language))

    def stop(self) -> None:
        self.stops += 1


def _guide(services: Services, *, enabled: bool = True) -> tuple[AudioGuide, RecordingSpeaker]:
    speaker = RecordingSpeaker()
    guide = AudioGuide(speaker, services.translator, available=True, enabled=enabled)
    guide.attach(services.journey)
    return guide, speaker


def test_each_screen_prompt_is_spoken_and_never_personal_data(services: Services) -> None:
    """GIVEN audio on WHEN a whole journey runs (wrong PIN, form, signature, PIN change, rating)
    THEN a prompt is said at each step, in Georgian, and no name, number or answer is ever said."""
    guide, speaker = _guide(services)
    journey = services.journey
    services.demo.reader.insert(services.demo.new_card(auth_pin="5678", sign_pin="908172"))
    journey.enter_pin(bytearray(b"0000"))
    assert "2" in speaker.said[-1][0]  # the tries left are said
    journey.enter_pin(bytearray(b"5678"))
    journey.choose_service("municipality_letter")
    for answer in ("roads", "Kindergarten roof leaks", "577654321", "yes"):
        journey.answer(answer)
    journey.confirm()
    journey.sign(bytearray(b"908172"))
    journey.another_service()
    journey.choose_service("pin_change")
    journey.pin_service_choose(PinKind.AUTH)
    journey.leave_pin_service()
    journey.choose_service("residence_certificate")
    journey.back()
    services.journey.session.service = None
    journey.finish()
    texts = [t for t, _ in speaker.said]
    assert len(texts) >= 15 and all(lang == "ka" for _, lang in speaker.said)
    assert services.translator("pin.title") in texts[1]
    for secret in (*DEMO_CITIZEN.values(), "577654321", "Kindergarten", "908172", "5678"):
        assert not any(secret in t for t in texts), secret


def test_language_switch_repeats_the_prompt_in_the_new_language(services: Services) -> None:
    """GIVEN audio on at the attract screen WHEN English is chosen THEN the prompt is said again in English."""
    _, speaker = _guide(services)
    services.translator.set_language("en")
    assert speaker.said == [(services.translator("attract.insert_card"), "en")]


def test_switching_off_is_at_once_and_back_on_says_the_prompt_and_back_on_with_the_prompt(services: Services) -> None:
    """GIVEN audio on WHEN switched off THEN speech stops and steps are silent; switched on THEN the current prompt is said."""
    guide, speaker = _guide(services)
    heard: list[bool] = []
    guide.subscribe(heard.append)
    guide.set_enabled(False)
    assert not guide.enabled and speaker.stops == 1 and heard == [False]
    services.demo.reader.insert(services.demo.new_card())
    assert speaker.said == []
    guide.set_enabled(True)
    assert guide.enabled and speaker.said[-1][0].startswith(services.translator("pin.title"))


def test_next_villager_gets_the_kiosks_setting_back(services: Services) -> None:
    """GIVEN audio configured off WHEN a villager switches it on and the session ends THEN it is off again."""
    guide, _ = _guide(services, enabled=False)
    services.demo.reader.insert(services.demo.new_card())
    guide.set_enabled(True)
    services.demo.reader.remove()
    assert not guide.enabled


def test_without_an_engine_nothing_can_be_switched_on(services: Services) -> None:
    """GIVEN no speech engine WHEN audio is asked for THEN it stays off (the toggle is hidden)."""
    guide = AudioGuide(NullSpeaker(), services.translator, available=False, enabled=True)
    guide.set_enabled(True)
    assert not guide.enabled


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_guide_with_real_espeak_writes_georgian_speech(services: Services, tmp_path: Path) -> None:
    """GIVEN the real espeak-ng writing WAVs WHEN the card goes in THEN the Georgian PIN prompt becomes a WAV file."""
    speaker = EspeakSpeaker(wav_dir=tmp_path)
    guide = AudioGuide(speaker, services.translator, available=True, enabled=True)
    guide.attach(services.journey)
    services.demo.reader.insert(services.demo.new_card())
    speaker.wait()
    wavs = sorted(tmp_path.glob("*-ka.wav"))
    assert wavs and all(p.stat().st_size > 20_000 for p in wavs)
