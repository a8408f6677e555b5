"""On-screen keyboards: every alphabet complete, capitals right, the script key, the layout following the language."""

from __future__ import annotations

import pytest

from screens.widgets.entry import AnswerField
from screens.widgets.keyboard import LETTER_LAYOUTS, OnScreenKeyboard, layout_for_language, upper
from tests.fixtures.screen_probe import STANDARD_RUN, probe_report

# Written out here, independently of the layouts, so a missing or doubled key is caught.
ALPHABETS = {
    "ka": "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",  # 33 Mkhedruli letters
    "en": "abcdefghijklmnopqrstuvwxyz",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",  # 33
    "az": "abcçdeəfgğhxıijkqlmnoöprsştuüvyz",  # 32
    "hy": "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ" + "և",  # 38 letters and the ligature
}


@pytest.mark.parametrize("script", sorted(ALPHABETS))
def test_layout_has_every_letter_once(script: str) -> None:
    """GIVEN a script's keyboard WHEN its keys are listed THEN each letter of the alphabet is there exactly once."""
    keys = "".join(LETTER_LAYOUTS[script])
    assert sorted(keys) == sorted(ALPHABETS[script])
    assert len(ALPHABETS[script]) == {"ka": 33, "en": 26, "ru": 33, "az": 32, "hy": 39}[script]


def test_capitals_follow_each_language() -> None:
    """GIVEN shift WHEN letters whose capitals differ from Python's upper() are typed THEN each language's capital comes out."""
    assert upper("az", "i") == "İ" and upper("az", "ı") == "I"
    assert upper("en", "i") == "I"
    assert upper("hy", "և") == "ԵՎ" and upper("hy", "ա") == "Ա"
    assert upper("ru", "ё") == "Ё"


def _keyboard(language: str, layout: str = "ka") -> tuple[OnScreenKeyboard, AnswerField]:
    keyboard = OnScreenKeyboard(layout=layout, language=language)
    field = AnswerField()
    keyboard.target = field
    return keyboard, field


def test_letters_follow_the_language_and_digits_stay_digits() -> None:
    """GIVEN keyboards WHEN the language changes THEN letters switch script and the numeric pad stays numeric."""
    letters, _ = _keyboard("ru")
    digits, _ = _keyboard("ru", layout="numeric")
    assert letters.layout == "ru" and digits.layout == "numeric"
    letters.language = "hy"
    digits.language = "hy"
    assert letters.layout == "hy" and digits.layout == "numeric"
    assert layout_for_language("xx") == "en"


def test_script_key_walks_own_script_then_georgian_then_the_rest() -> None:
    """GIVEN a Russian screen WHEN the script key is pressed repeatedly THEN Georgian comes first, and it cycles back."""
    keyboard, _ = _keyboard("ru")
    seen = [keyboard.layout]
    for _ in range(5):
        keyboard.press("script")
        seen.append(keyboard.layout)
    assert seen == ["ru", "ka", "en", "az", "hy", "ru"]


def test_shift_is_for_one_letter_and_azerbaijani_i_gets_its_dot() -> None:
    """GIVEN the Azerbaijani keyboard WHEN shift then i, then i again THEN "İi" is typed; space and backspace edit."""
    keyboard, field = _keyboard("az")
    keyboard.press("shift")
    keyboard.press("i")
    keyboard.press("i")
    keyboard.press("space")
    keyboard.press("ə")
    keyboard.press("⌫")
    assert field.value == "İi "
    assert not keyboard.shift


def test_touched_keys_type_what_they_show_and_are_big_enough() -> None:
    """GIVEN the real app offscreen WHEN the probe touches keys (Georgian, the script key, Latin, space)
    THEN the answer holds exactly those letters, Georgian has no shift key, and no key is under 15 mm."""
    report = probe_report(*STANDARD_RUN)
    assert report["error"] == ""
    # three Georgian keys of the top row, the script key (→ Latin), two Latin keys and a space
    assert report["typed"] == LETTER_LAYOUTS["ka"][0][:3] + LETTER_LAYOUTS["en"][0][:2] + " "
    keyboard, _ = _keyboard("ka")
    assert "shift" not in [getattr(k, "key", "") for row in keyboard.children for k in row.children]
    touch = [i for i in report["issues"] if i["kind"] == "touch" and "Keyboard" in i["widget"]]
    assert touch == []
