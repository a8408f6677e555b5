"""The kiosk's two colour palettes and the WCAG contrast ratio that checks them.

Kept free of Kivy so the contrast of every text/background pair can be computed (and tested)
without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

Rgba = tuple[float, float, float, float]


@dataclass(frozen=True)
class Palette:
    """Every colour a screen may use; ``*_fg`` is the text drawn on the colour before it."""

    bg: Rgba
    fg: Rgba
    muted: Rgba
    primary: Rgba
    primary_fg: Rgba
    secondary: Rgba
    secondary_fg: Rgba
    danger: Rgba
    ok: Rgba
    ok_fg: Rgba
    banner: Rgba
    banner_fg: Rgba
    field_bg: Rgba
    field_fg: Rgba
    selected: Rgba  # the chosen language / toggle in the top bar
    selected_fg: Rgba
    overlay: Rgba  # the idle countdown box
    overlay_fg: Rgba

    def as_dict(self) -> dict[str, Rgba]:
        """Colour name → RGBA, for copying onto the theme's properties."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


NORMAL = Palette(
    bg=(0.96, 0.97, 0.98, 1),
    fg=(0.07, 0.1, 0.16, 1),
    muted=(0.3, 0.35, 0.42, 1),
    primary=(0.0, 0.36, 0.66, 1),
    primary_fg=(1, 1, 1, 1),
    secondary=(0.86, 0.89, 0.93, 1),
    secondary_fg=(0.07, 0.1, 0.16, 1),
    danger=(0.72, 0.11, 0.11, 1),
    ok=(0.04, 0.45, 0.22, 1),
    ok_fg=(1, 1, 1, 1),
    banner=(1.0, 0.8, 0.0, 1),
    banner_fg=(0, 0, 0, 1),
    field_bg=(1, 1, 1, 1),
    field_fg=(0.07, 0.1, 0.16, 1),
    selected=(1, 1, 1, 1),
    selected_fg=(0.0, 0.36, 0.66, 1),
    overlay=(0.1, 0.1, 0.1, 0.95),
    overlay_fg=(1, 1, 1, 1),
)

# White and yellow on black: every text/background pair is at least 7:1 (WCAG AAA).
HIGH_CONTRAST = Palette(
    bg=(0, 0, 0, 1),
    fg=(1, 1, 1, 1),
    muted=(1.0, 0.92, 0.3, 1),
    primary=(1.0, 0.87, 0.0, 1),
    primary_fg=(0, 0, 0, 1),
    secondary=(0.2, 0.2, 0.2, 1),
    secondary_fg=(1, 1, 1, 1),
    danger=(1.0, 0.6, 0.6, 1),
    ok=(0.45, 1.0, 0.45, 1),
    ok_fg=(0, 0, 0, 1),
    banner=(1.0, 0.87, 0.0, 1),
    banner_fg=(0, 0, 0, 1),
    field_bg=(0, 0, 0, 1),
    field_fg=(1, 1, 1, 1),
    selected=(0, 0, 0, 1),
    selected_fg=(1.0, 0.87, 0.0, 1),
    overlay=(0, 0, 0, 1),
    overlay_fg=(1, 1, 1, 1),
)

# (text, background) pairs the screens actually draw; the contrast test walks these.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("fg", "bg"),
    ("muted", "bg"),
    ("danger", "bg"),
    ("ok", "bg"),
    ("primary_fg", "primary"),
    ("secondary_fg", "secondary"),
    ("ok_fg", "ok"),
    ("banner_fg", "banner"),
    ("field_fg", "field_bg"),
    ("selected_fg", "selected"),
    ("overlay_fg", "overlay"),
)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: Rgba) -> float:
    """WCAG 2 relative luminance of an sRGB colour (alpha ignored)."""
    r, g, b = (_linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def blend(top: Rgba, below: Rgba) -> Rgba:
    """``top`` drawn with its alpha over the opaque ``below``."""
    a = top[3]
    return (*(t * a + b * (1 - a) for t, b in zip(top[:3], below[:3], strict=True)), 1.0)  # type: ignore[return-value]


def contrast_ratio(text: Rgba, background: Rgba) -> float:
    """WCAG contrast ratio, 1 to 21; 7 or more is AAA for body text."""
    light, dark = sorted((relative_luminance(text), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
