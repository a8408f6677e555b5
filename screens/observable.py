"""Kivy-observable faces of core objects: the translator and the theme.

kv rules bind to ``tr.lang`` by writing ``tr.t('key', tr.lang)``, so a language switch redraws
every label; the theme scales sizes from the window and the configured screen density.
"""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.i18n import Translator


class ObservableTranslator(EventDispatcher):
    """Wraps the core ``Translator``; ``lang`` changes whenever the language does."""

    lang = StringProperty("ka")

    def __init__(self, translator: Translator, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._translator = translator
        self.lang = translator.language
        translator.subscribe(self._on_switch)

    def _on_switch(self, language: str) -> None:
        self.lang = language

    def t(self, key: str, *_bound: object, **params: object) -> str:
        """Translate ``key``; extra positional arguments exist only so kv binds to them."""
        return self._translator(key, **params)

    def switch(self, language: str) -> None:
        """Change the language of everything on screen."""
        self._translator.set_language(language)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages the person can switch to."""
        return self._translator.languages


MM_PER_INCH = 25.4


class Theme(EventDispatcher):
    """Colours and sizes; sizes follow the window height and the screen's real density."""

    scale = NumericProperty(1.0)
    touch = NumericProperty(96)  # minimum touch target, px (>= 15 mm at the configured dpi)
    font_title = NumericProperty(48)
    font_large = NumericProperty(36)
    font_body = NumericProperty(28)
    font_small = NumericProperty(22)
    pad = NumericProperty(24)
    high_contrast = BooleanProperty(False)
    bg = ListProperty([0.96, 0.97, 0.98, 1])
    fg = ListProperty([0.07, 0.1, 0.16, 1])
    muted = ListProperty([0.3, 0.35, 0.42, 1])
    primary = ListProperty([0.0, 0.36, 0.66, 1])
    primary_fg = ListProperty([1, 1, 1, 1])
    secondary = ListProperty([0.86, 0.89, 0.93, 1])
    danger = ListProperty([0.72, 0.11, 0.11, 1])
    ok = ListProperty([0.05, 0.5, 0.25, 1])
    banner = ListProperty([1.0, 0.8, 0.0, 1])

    def __init__(self, dpi: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._dpi = dpi

    def fit(self, width: float, height: float) -> None:
        """Recompute sizes for a window of ``width`` × ``height`` pixels."""
        self.scale = min(width / 1280.0, height / 800.0)
        min_touch = 15 / MM_PER_INCH * self._dpi
        self.touch = max(min_touch, 96 * self.scale)
        self.font_title = 46 * self.scale
        self.font_large = 36 * self.scale
        self.font_body = 28 * self.scale
        self.font_small = 22 * self.scale
        self.pad = 24 * self.scale
