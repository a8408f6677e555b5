"""Coverage tests for the bundled Kiosk Sans fonts.

Kivy labels have no font fallback, so every character the kiosk shows must
be in the one font a label uses; a missing code point renders as a tofu box.
"""

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

FONT_DIR = Path(__file__).parents[1] / "assets" / "fonts"
FONT_FILES = ["KioskSans-Regular.ttf", "KioskSans-Bold.ttf"]

SAMPLES = {
    "georgian": "მოგესალმებით ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ",
    "armenian": "Բարի գալուստ",
    "russian": "Добро пожаловать №",
    "azerbaijani": "Xoş gəlmisiniz Ə İ ı ğ ş ç ö ü",
    "english": "Welcome 0123456789",
    "symbols": "₾ — « » … • ← →",
}


@pytest.fixture(scope="module", params=FONT_FILES)
def cmap(request):
    """GIVEN the character map of one bundled Kiosk Sans weight."""
    return TTFont(FONT_DIR / request.param).getBestCmap()


@pytest.mark.parametrize("language", SAMPLES)
def test_font_covers_sample_text(cmap, language):
    """GIVEN a bundled Kiosk Sans font and a greeting in one kiosk language
    WHEN every code point of the greeting is looked up in the font's cmap
    THEN none is missing, so a Kivy label shows it without tofu boxes.
    """
    text = SAMPLES[language]
    missing = [f"U+{ord(char):04X} {char}" for char in text if ord(char) not in cmap]
    assert not missing, f"{language}: missing {missing}"


@pytest.mark.parametrize("font_file", FONT_FILES)
def test_font_is_not_named_noto(font_file):
    """GIVEN a bundled font derived from Noto
    WHEN its family and PostScript names are read
    THEN they say "Kiosk Sans": the OFL reserves "Noto" for unmodified fonts.
    """
    names = TTFont(FONT_DIR / font_file)["name"]
    assert names.getDebugName(1) == "Kiosk Sans"
    assert names.getDebugName(6) == font_file.removesuffix(".ttf")
