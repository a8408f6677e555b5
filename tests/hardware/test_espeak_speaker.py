"""The espeak-ng speaker against the real espeak-ng (Debian package), writing WAV files."""

from __future__ import annotations

import shutil
import time
import wave
from pathlib import Path

import pytest

from hardware.espeak_speaker import EspeakSpeaker, choose_voices, parse_voices

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

PROMPTS = {
    "ka": "ჩადეთ პირადობის მოწმობა წამკითხველში",
    "en": "Insert your ID card into the reader",
    "ru": "Вставьте удостоверение личности в считыватель",
    "az": "Şəxsiyyət vəsiqənizi oxuyucuya daxil edin",
    "hy": "Տեղադրեք ձեր անձնագիրը ընթերցիչի մեջ",
}


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_every_kiosk_language_has_a_voice_here() -> None:
    """GIVEN Debian's espeak-ng WHEN its voices are listed THEN ka, en, ru, az and hy each get a voice."""
    voices = EspeakSpeaker().voices
    assert set(voices) == set(PROMPTS)
    assert voices["ka"] == "ka" and voices["en"] == "en-gb"


def test_each_language_is_spoken_into_a_wav(tmp_path: Path) -> None:
    """GIVEN a prompt per language WHEN said with a WAV directory THEN each WAV holds about a second or more of speech."""
    speaker = EspeakSpeaker(wav_dir=tmp_path)
    for lang, text in PROMPTS.items():
        speaker.say(text, lang)
    speaker.wait()
    wavs = sorted(tmp_path.glob("*.wav"))
    assert [p.stem.split("-")[1] for p in wavs] == list(PROMPTS)
    for path in wavs:
        assert _seconds(path) > 1.0, path.name


def test_say_returns_at_once_and_stop_cuts_off(tmp_path: Path) -> None:
    """GIVEN a long text WHEN said aloud THEN say() returns before the speech ends, and stop() ends the process."""
    speaker = EspeakSpeaker()
    started = time.perf_counter()
    speaker.say(" ".join([PROMPTS["en"]] * 40), "en")
    assert time.perf_counter() - started < 0.2
    process = speaker._current
    speaker.stop()
    assert process is not None and process.poll() is not None


def test_a_language_without_a_voice_stays_silent(tmp_path: Path) -> None:
    """GIVEN a language espeak-ng has no voice for WHEN said THEN nothing is started (no foreign voice reads it)."""
    speaker = EspeakSpeaker(wav_dir=tmp_path)
    speaker.say("Bonjour", "fr")
    assert speaker._current is None and not list(tmp_path.glob("*.wav"))


def test_voice_fallbacks() -> None:
    """GIVEN a listing without az and en-gb WHEN voices are chosen THEN Turkish stands in for Azerbaijani, en for en-gb,
    and a language with no candidate is left out."""
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  tr              --/M      Turkish            trk/tr\n"
        " 2  en              --/M      English            gmw/en\n"
        " 5  ru              --/M      Russian            zle/ru\n"
    )
    assert choose_voices(parse_voices(listing)) == {"en": "en", "ru": "ru", "az": "tr"}


def test_missing_program_is_not_usable() -> None:
    """GIVEN a command that does not exist WHEN asked THEN not usable, and its voices are empty."""
    assert not EspeakSpeaker.is_usable("espeak-ng-that-is-not-there")
    assert EspeakSpeaker("espeak-ng-that-is-not-there").voices == {}
