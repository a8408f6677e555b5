"""On-screen keyboards: Georgian, Latin, Russian, Azerbaijani and Armenian letters, and a numeric pad.

The letters follow the language on screen (``language``), and a script key cycles through the
other scripts: a villager reading Russian may need to type a Georgian address. Keys type into an
``AnswerField``. Look and size come from the ``<KeyboardKey>`` rule in ``keyboard.kv``.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from screens.widgets.entry import AnswerField

# Letter rows per script, in the order of that script's usual keyboard where it allows.
LETTER_LAYOUTS: dict[str, tuple[str, ...]] = {
    # all 33 Mkhedruli letters: Georgian QWERTY positions, the letters a physical keyboard puts
    # under Shift (ჭ შ ჟ ძ ჩ ღ თ) at the ends of the rows, so no shift is needed
    "ka": ("ქწერტყუიოპჭ", "ასდფგჰჯკლშჟ", "ზხცვბნმძჩღთ"),
    "en": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    # ЙЦУКЕН, all 33 letters; Ё at the end of the bottom row
    "ru": ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбюё"),
    # the Azerbaijani QÜERTY keyboard: 32 letters, "ı" is the dotless i (capital I), "i" gives İ
    "az": ("qüertyuiopöğ", "asdfghjklıə", "zxcvbnmçş"),
    # Armenian phonetic keyboard: 38 letters and the ligature և; the letters of its digit row
    # (է թ փ ձ ջ և ր չ ճ ժ) at the ends of the rows, so three rows hold all of them
    "hy": ("քոեռտըւիօպխծշ", "ասդֆգհյկլէթփձ", "զղցվբնմջևրչճժ"),
}
NUMERIC_ROWS = ("123", "456", "789", "0")  # whole numbers only (phone, personal number, counts)
SCRIPT_ORDER = ("ka", "en", "ru", "az", "hy")
# What the script key shows: a sample of the script it switches to, written in that script.
SCRIPT_LABEL = {"ka": "ქართ", "en": "ABC", "ru": "АБВ", "az": "AZƏ", "hy": "ԱԲԳ"}
PUNCTUATION = (",", ".", "-")
SPACE, BACKSPACE, SHIFT, SCRIPT = "space", "⌫", "shift", "script"
UNICASE = {"ka"}  # Mkhedruli has no capitals in everyday writing: no shift key
SPECIAL_UPPER = {"az": {"i": "İ", "ı": "I"}, "hy": {"և": "ԵՎ"}}  # where str.upper() is wrong


def layout_for_language(language: str) -> str:
    """The letter layout that writes ``language`` (Latin for any language without its own)."""
    return language if language in LETTER_LAYOUTS else "en"


def upper(layout: str, letter: str) -> str:
    """``letter`` as a capital in ``layout``'s language (Azerbaijani i → İ, Armenian և → ԵՎ)."""
    return SPECIAL_UPPER.get(layout, {}).get(letter) or letter.upper()


class KeyboardKey(Button):
    """One key; ``key`` is what it types (or a special key's name), ``text`` what it shows."""

    key = StringProperty("")
    active = BooleanProperty(False)  # the shift key while shift is on


class KeyboardRow(BoxLayout):
    """One row of keys."""


class OnScreenKeyboard(BoxLayout):
    """Rows of keys for ``layout``; touches type into ``target``.

    ``language`` (bound to the screen's language by the kv rule) picks the letter layout unless
    the keyboard is numeric; the script key then cycles through the other scripts.
    """

    layout = StringProperty("ka")
    language = StringProperty("")
    target = ObjectProperty(None, allownone=True)
    theme = ObjectProperty(None)  # kept for callers that pass it; sizes come from the kv rule
    shift = BooleanProperty(False)
    row_count = NumericProperty(4)  # the kv rule gives every row at least the touch minimum

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._follow_language()
        self.bind(language=lambda *_: self._follow_language(), layout=lambda *_: self.build_keys())
        self.bind(shift=lambda *_: self._relabel())
        self.build_keys()

    def _follow_language(self) -> None:
        if self.layout != "numeric" and self.language:
            self.layout = layout_for_language(self.language)

    @property
    def scripts(self) -> list[str]:
        """The order the script key walks: the language's own script, then Georgian, then the rest."""
        home = layout_for_language(self.language or self.layout)
        first = [home] + [s for s in ("ka", "en") if s != home]
        return first + [s for s in SCRIPT_ORDER if s not in first]

    @property
    def next_script(self) -> str:
        """The letter layout the script key switches to."""
        order = self.scripts
        return order[(order.index(self.layout) + 1) % len(order)] if self.layout in order else order[0]

    def build_keys(self) -> None:
        """(Re)create the key buttons for the current layout."""
        self.clear_widgets()
        self.shift = False
        if self.layout == "numeric":
            rows: list[list[str]] = [list(r) for r in NUMERIC_ROWS]
            rows[-1].append(BACKSPACE)
        else:
            rows = [list(r) for r in LETTER_LAYOUTS[self.layout]]
            shift = [] if self.layout in UNICASE else [SHIFT]
            rows.append([SCRIPT, *shift, PUNCTUATION[0], SPACE, *PUNCTUATION[1:], BACKSPACE])
        self.row_count = len(rows)
        widest = max(len(r) for r in rows[:-1]) if len(rows) > 1 else len(rows[0])
        for index, row in enumerate(rows):
            line = KeyboardRow()
            keys = [self._key(key) for key in row]
            lead = 1.0 if self.layout == "numeric" and index == len(rows) - 1 else 0.0
            if lead:
                line.add_widget(Widget(size_hint_x=lead))  # the 0 sits under the 8, as on a phone
            # short rows stay centred with keys as wide as in the widest row, like a real keyboard
            room = widest - lead - sum(k.size_hint_x for k in keys)
            if room > 0:
                line.add_widget(Widget(size_hint_x=room / 2))
            for key in keys:
                line.add_widget(key)
            if room > 0:
                line.add_widget(Widget(size_hint_x=room / 2))
            self.add_widget(line)

    def _key(self, key: str) -> KeyboardKey:
        widths = {SPACE: 3.0, SCRIPT: 1.5, SHIFT: 1.2, BACKSPACE: 1.3}
        width = 1.0 if self.layout == "numeric" else widths.get(key, 1.0)  # the pad is a plain 3-column grid
        button = KeyboardKey(key=key, size_hint_x=width)
        button.text = self._label(key)
        button.bind(on_release=lambda b: self.press(b.key))
        return button

    def _label(self, key: str) -> str:
        if key == SPACE:
            return " "
        if key == SHIFT:
            return "↑"
        if key == SCRIPT:
            return SCRIPT_LABEL[self.next_script]
        return upper(self.layout, key) if self.shift and self.layout != "numeric" else key

    def _relabel(self) -> None:
        for row in self.children:
            for button in row.children:
                if isinstance(button, KeyboardKey):
                    button.text = self._label(button.key)
                    button.active = button.key == SHIFT and self.shift

    def press(self, key: str) -> None:
        """Type ``key`` into the target (or act on a special key)."""
        if key == SCRIPT:
            self.layout = self.next_script
            return
        if key == SHIFT:
            self.shift = not self.shift
            return
        target: AnswerField | None = self.target
        if target is None:
            return
        if key == BACKSPACE:
            target.do_backspace()
        elif key == SPACE:
            target.insert_text(" ")
        else:
            # shift is for one letter, like on a phone
            target.insert_text(upper(self.layout, key) if self.shift else key)
            self.shift = False
