"""The ``Speaker`` port through the espeak-ng command: one subprocess per prompt, never waited for.

Debian's ``espeak-ng`` has voices for Georgian, Russian, Azerbaijani and Armenian as well as
English. The voice for each language is picked from what ``espeak-ng --voices`` lists; a
language with no voice stays silent rather than being read out with a foreign voice.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from itertools import count
from pathlib import Path

log = logging.getLogger(__name__)

# Voices to try per language, best first (Eastern Armenian is what Armenia's villagers speak;
# Turkish is close enough to Azerbaijani to be understood where ``az`` is missing).
VOICE_PREFERENCES: dict[str, tuple[str, ...]] = {
    "ka": ("ka",),
    "en": ("en-gb", "en", "en-us"),
    "ru": ("ru", "ru-lv"),
    "az": ("az", "tr"),
    "hy": ("hy", "hyw"),
}


def parse_voices(listing: str) -> set[str]:
    """The language codes in ``espeak-ng --voices`` output (its second column)."""
    codes = set()
    for line in listing.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            codes.add(parts[1])
    return codes


def choose_voices(available: set[str]) -> dict[str, str]:
    """For each language, the first preferred voice espeak-ng has; languages with none are left out."""
    chosen = {}
    for language, wanted in VOICE_PREFERENCES.items():
        voice = next((v for v in wanted if v in available), None)
        if voice:
            chosen[language] = voice
    return chosen


class EspeakSpeaker:
    """Speaks prompts with espeak-ng; with ``wav_dir`` it writes each prompt to a WAV file instead."""

    def __init__(self, executable: str = "espeak-ng", *, rate_wpm: int = 140, wav_dir: Path | None = None) -> None:
        self._exe = executable
        self._rate = rate_wpm  # a little slower than espeak's 175: many listeners are elderly
        self._wav_dir = wav_dir
        self._numbers = count(1)
        self._current: subprocess.Popen | None = None
        self._recordings: list[subprocess.Popen] = []  # WAV writers still running (never cut off)
        self._voices: dict[str, str] | None = None

    @staticmethod
    def is_usable(executable: str = "espeak-ng") -> bool:
        """True when the espeak-ng command is installed."""
        return shutil.which(executable) is not None

    @property
    def voices(self) -> dict[str, str]:
        """The voice per language (asked of espeak-ng once)."""
        if self._voices is None:
            try:
                listing = subprocess.run([self._exe, "--voices"], capture_output=True, text=True, timeout=5,
                                         check=True).stdout
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("espeak-ng does not list its voices: %s", type(exc).__name__)
                listing = ""
            self._voices = choose_voices(parse_voices(listing))
            missing = sorted(set(VOICE_PREFERENCES) - set(self._voices))
            if missing:
                log.warning("espeak-ng has no voice for %s; those prompts stay silent", ", ".join(missing))
        return self._voices

    def say(self, text: str, language: str) -> None:
        """Start speaking ``text``; whatever was still being said is cut off."""
        self.stop()
        voice = self.voices.get(language)
        if voice is None or not text.strip():
            return
        command = [self._exe, "-v", voice, "-s", str(self._rate)]
        if self._wav_dir is not None:
            self._wav_dir.mkdir(parents=True, exist_ok=True)
            command += ["-w", str(self._wav_dir / f"{next(self._numbers):03d}-{language}.wav")]
        try:
            # The text goes on the command line after "--": a prompt never starts an option.
            process = subprocess.Popen([*command, "--", text], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.warning("espeak-ng did not start: %s", type(exc).__name__)
            return
        if self._wav_dir is not None:
            # Each recording has its own file: let it finish in its own time, never block the screen.
            self._recordings = [p for p in self._recordings if p.poll() is None] + [process]
        else:
            self._current = process

    def stop(self) -> None:
        """Cut off the prompt being spoken (and reap the finished process)."""
        process, self._current = self._current, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the current prompt and every recording are finished (for tests)."""
        for process in [*self._recordings, *([self._current] if self._current else [])]:
            process.wait(timeout=timeout)
        self._recordings = []
