"""On-screen keyboards: Georgian and Latin letters, and a numeric pad, typing into an ``AnswerField``."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button

from screens.widgets.entry import AnswerField

LAYOUTS: dict[str, list[str]] = {
    # All 33 Mkhedruli letters, in the order of the Georgian keyboard where it allows.
    "ka": ["ქწერტყუიოპ", "ასდფგჰჯკლ", "ზხცვბნმღთ", "შძჟჭჩ,.-"],
    "en": ["qwertyuiop", "asdfghjkl", "zxcvbnm", ",.-?"],
    "numeric": ["123", "456", "789", ".0"],
}
NEXT_LAYOUT = {"ka": "en", "en": "ka"}
LAYOUT_LABEL = {"ka": "ABC", "en": "ქართ"}


class OnScreenKeyboard(BoxLayout):
    """Rows of keys for ``layout``; touches type into ``target``."""

    layout = StringProperty("ka")
    target = ObjectProperty(None, allownone=True)
    theme = ObjectProperty(None)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.build_keys()
        self.bind(layout=lambda *_: self.build_keys())

    def build_keys(self) -> None:
        """(Re)create the key buttons for the current layout."""
        if self.theme is None:
            return
        self.clear_widgets()
        rows = [list(r) for r in LAYOUTS[self.layout]]
        if self.layout == "numeric":
            rows[-1].append("⌫")
        else:
            rows.append([LAYOUT_LABEL[self.layout], "space", "⌫"])
        for row in rows:
            line = BoxLayout(spacing=self.theme.pad / 4)
            for key in row:
                line.add_widget(self._key(key))
            self.add_widget(line)

    def _key(self, key: str) -> Button:
        label = {"space": " ", "⌫": "⌫"}.get(key, key)
        button = Button(
            text=label,
            font_name="KioskSans",
            font_size=self.theme.font_large,
            background_normal="",
            background_color=self.theme.secondary,
            color=self.theme.fg,
            size_hint_x=4 if key == "space" else (1.6 if key in LAYOUT_LABEL.values() else 1),
        )
        button.key = key
        button.bind(on_release=lambda b: self.press(b.key))
        return button

    def press(self, key: str) -> None:
        """Type ``key`` into the target (or act on a special key)."""
        if key in LAYOUT_LABEL.values():
            self.layout = NEXT_LAYOUT[self.layout]
            return
        target: AnswerField | None = self.target
        if target is None:
            return
        if key == "⌫":
            target.do_backspace()
        elif key == "space":
            target.insert_text(" ")
        else:
            target.insert_text(key)
