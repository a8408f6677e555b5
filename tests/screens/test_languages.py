"""Five languages: complete catalogues, every character in the bundled font, nothing English or raw on
a non-English screen, and the headless tour in Azerbaijani and Armenian."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageStat

from assets import ASSETS_DIR, font_path
from kiosk.config import LANGUAGES as UI_LANGUAGES
from kiosk.i18n import load_messages
from screens.app import LANGUAGE_NAMES
from tests.fixtures.screen_probe import STANDARD_RUN, probe_report

REPO = Path(__file__).resolve().parents[2]


def test_all_five_languages_are_offered_in_their_own_words() -> None:
    """GIVEN the kiosk WHEN its languages are listed THEN all five are there, each named in itself."""
    assert UI_LANGUAGES == ("ka", "en", "ru", "az", "hy")
    assert [LANGUAGE_NAMES[lang] for lang in UI_LANGUAGES] == ["ქართული", "English", "Русский", "Azərbaycanca", "Հայերեն"]


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_every_message_has_the_same_placeholders_as_english(language: str) -> None:
    """GIVEN a language's catalogue WHEN compared with English THEN every key is there, non-empty, with the same {placeholders}."""
    english = load_messages(ASSETS_DIR / "locale", "en")
    messages = load_messages(ASSETS_DIR / "locale", language)
    assert sorted(set(english) - set(messages)) == []
    for key, text in english.items():
        assert messages[key].strip(), key
        assert set(re.findall(r"{(\w+)}", messages[key])) == set(re.findall(r"{(\w+)}", text)), key


@pytest.mark.parametrize("language", UI_LANGUAGES)
@pytest.mark.parametrize("bold", [False, True])
def test_every_message_renders_in_the_bundled_font(language: str, bold: bool) -> None:
    """GIVEN Kivy's lack of font fallback WHEN every character of every message is looked up in Kiosk Sans
    THEN none is missing (no tofu)."""
    cmap = TTFont(font_path(bold=bold)).getBestCmap()
    text = "".join(load_messages(ASSETS_DIR / "locale", language).values())
    assert sorted({c for c in text if not c.isspace() and ord(c) not in cmap}) == []


def test_screens_in_every_language_show_no_english_raw_keys_or_tofu() -> None:
    """GIVEN the real app walked through every screen WHEN switched to each language by touch
    THEN no English sentence, raw message key or missing glyph is on any non-English screen."""
    report = probe_report(*STANDARD_RUN)
    assert report["error"] == ""
    assert {"attract", "pin", "services", "form-text", "confirm", "done", "pin-blocked"} <= set(report["states"])
    assert [i for i in report["issues"] if i["kind"] in ("english", "untranslated", "tofu")] == []


@pytest.mark.parametrize("lang", ["az", "hy"])
def test_demo_tour_in_language(tmp_path: Path, lang: str) -> None:
    """GIVEN `kiosk demo --tour DIR --lang L` WHEN it runs headless THEN it passes and writes readable 1280×800 pictures
    (ka and en run in tests/e2e; ru, az and hy screens are all walked by the probe above)."""
    out = tmp_path / "tour"
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_VIDEODRIVER": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "entrypoints", "demo", "--tour", str(out), "--data-dir", str(tmp_path / "data"), "--lang", lang],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    pictures = sorted(out.glob("[0-9][0-9]-*.png"))
    assert any(p.stem.endswith(f"language-{lang}") for p in pictures)
    for picture in pictures:
        with Image.open(picture) as image:
            # the kiosk's screens, and the phone's view of the page behind each receipt's QR
            assert image.size == ((360, 740) if picture.stem.endswith("status-page") else (1280, 800))
            assert ImageStat.Stat(image.convert("L")).stddev[0] > 20, picture.name
