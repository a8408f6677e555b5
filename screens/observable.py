"""Kivy-observable faces of core objects: the translator and the theme.

kv rules bind to ``tr.lang`` by writing ``tr.t('key', tr.lang)``, so a language switch redraws
every label; the theme scales sizes from the window and the configured screen density.
"""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.i18n import Translator
from screens.palette import HIGH_CONTRAST, NORMAL, Palette


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
MIN_TOUCH_MM = 15.0
BASE_COLOURS = ("primary_fg", "fg", "primary")  # colours the shared kv rules start from, see _apply_palette
LARGE_TEXT_SCALE = 1.35  # "A+": about a third larger, the most a 1280×800 screen holds without clipping


def min_touch_px(dpi: float) -> float:
    """The smallest touch target, in pixels, on a panel of ``dpi`` dots per inch (15 mm)."""
    return MIN_TOUCH_MM / MM_PER_INCH * dpi


class Theme(EventDispatcher):
    """Colours and sizes; sizes follow the window, the screen's real density and the text scale.

    ``high_contrast`` and ``large_text`` are the villager's toggles; ``reset()`` returns both to
    the kiosk's configured defaults when a session ends.
    """

    scale = NumericProperty(1.0)
    text_scale = NumericProperty(1.0)
    touch = NumericProperty(96)  # touch target, px (>= 15 mm at the configured dpi)
    min_touch = NumericProperty(57)  # 15 mm at the configured dpi, px
    font_title = NumericProperty(48)
    font_large = NumericProperty(36)
    font_body = NumericProperty(28)
    font_small = NumericProperty(22)
    font_bar = NumericProperty(22)  # the top bar's controls keep one size, so they never move
    pad = NumericProperty(24)
    high_contrast = BooleanProperty(False)
    large_text = BooleanProperty(False)
    bg = ListProperty(NORMAL.bg)
    fg = ListProperty(NORMAL.fg)
    muted = ListProperty(NORMAL.muted)
    primary = ListProperty(NORMAL.primary)
    primary_fg = ListProperty(NORMAL.primary_fg)
    secondary = ListProperty(NORMAL.secondary)
    secondary_fg = ListProperty(NORMAL.secondary_fg)
    danger = ListProperty(NORMAL.danger)
    ok = ListProperty(NORMAL.ok)
    ok_fg = ListProperty(NORMAL.ok_fg)
    banner = ListProperty(NORMAL.banner)
    banner_fg = ListProperty(NORMAL.banner_fg)
    field_bg = ListProperty(NORMAL.field_bg)
    field_fg = ListProperty(NORMAL.field_fg)
    selected = ListProperty(NORMAL.selected)
    selected_fg = ListProperty(NORMAL.selected_fg)
    overlay = ListProperty(NORMAL.overlay)
    overlay_fg = ListProperty(NORMAL.overlay_fg)

    def __init__(self, dpi: float, *, high_contrast: bool = False, text_scale: float = 1.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._default_contrast = high_contrast
        self._default_text_scale = text_scale
        self.min_touch = min_touch_px(dpi)
        self.bind(high_contrast=lambda *_: self._apply_palette(), large_text=lambda *_: self._apply_text_scale())
        self.reset()

    @property
    def palette(self) -> Palette:
        """The colours in use now."""
        return HIGH_CONTRAST if self.high_contrast else NORMAL

    def reset(self) -> None:
        """Back to the configured contrast and text size (a session ended)."""
        self.high_contrast = self._default_contrast
        self.large_text = self._default_text_scale >= LARGE_TEXT_SCALE
        self._apply_palette()
        self._apply_text_scale()

    def fit(self, width: float, height: float) -> None:
        """Recompute sizes for a window of ``width`` × ``height`` pixels."""
        self.scale = min(width / 1280.0, height / 800.0)
        self.touch = max(self.min_touch, 96 * self.scale)
        self.font_bar = 22 * self.scale
        self.pad = 24 * self.scale
        self._fonts()

    def _apply_text_scale(self) -> None:
        default = self._default_text_scale
        # "A+" off means the configured size, unless that is already the large one
        self.text_scale = LARGE_TEXT_SCALE if self.large_text else (default if default < LARGE_TEXT_SCALE else 1.0)
        self._fonts()

    def _fonts(self) -> None:
        size = self.scale * self.text_scale
        # body first: a kv rule that overrides KLabel's body size (KTitle: title) must be applied last
        self.font_body = 28 * size
        self.font_title = 46 * size
        self.font_large = 36 * size
        self.font_small = 22 * size

    def _apply_palette(self) -> None:
        colours = self.palette.as_dict()
        # the base rules' colours first (KButton: primary_fg, KLabel: fg): a kv rule that overrides one
        # (KSecondaryButton's fg) must be applied last, or a contrast switch leaves white on light grey
        for name in [*BASE_COLOURS, *(n for n in colours if n not in BASE_COLOURS)]:
            setattr(self, name, list(colours[name]))
