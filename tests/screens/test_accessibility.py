"""High contrast, larger text and touch sizes: computed contrast ratios, the theme's toggles and reset,
and the real app walked screen by screen in larger text and high contrast (``tests.fixtures.screen_probe``)."""

from __future__ import annotations

import pytest

from screens.observable import LARGE_TEXT_SCALE, Theme, min_touch_px
from screens.palette import HIGH_CONTRAST, NORMAL, TEXT_PAIRS, blend, contrast_ratio
from tests.fixtures.screen_probe import STANDARD_RUN, probe_report


def _report() -> dict:
    report = probe_report(*STANDARD_RUN)
    assert report["error"] == "", report["error"]
    return report


@pytest.mark.parametrize("text, background", TEXT_PAIRS)
def test_high_contrast_pairs_reach_7_to_1(text: str, background: str) -> None:
    """GIVEN the high-contrast palette WHEN each text colour is set against the colour it is drawn on THEN the ratio is ≥ 7:1."""
    colours = HIGH_CONTRAST.as_dict()
    assert contrast_ratio(colours[text], colours[background]) >= 7.0


@pytest.mark.parametrize("text, background", TEXT_PAIRS)
def test_normal_pairs_reach_4_5_to_1(text: str, background: str) -> None:
    """GIVEN the normal palette WHEN each text/background pair is measured THEN it meets WCAG AA (≥ 4.5:1)."""
    colours = NORMAL.as_dict()
    assert contrast_ratio(colours[text], colours[background]) >= 4.5


def test_top_bar_buttons_not_chosen_are_readable() -> None:
    """GIVEN a language button not chosen (a faint white wash over the bar) WHEN measured THEN ≥ 7:1 in high contrast."""
    over = blend((1, 1, 1, 0.12), HIGH_CONTRAST.primary)
    assert contrast_ratio(HIGH_CONTRAST.primary_fg, over) >= 7.0
    assert contrast_ratio(NORMAL.primary_fg, blend((1, 1, 1, 0.12), NORMAL.primary)) >= 4.5


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    """GIVEN black/white and equal colours WHEN measured THEN 21:1 and 1:1 (the formula itself is right)."""
    assert contrast_ratio((0, 0, 0, 1), (1, 1, 1, 1)) == pytest.approx(21.0)
    assert contrast_ratio((0.5, 0.5, 0.5, 1), (0.5, 0.5, 0.5, 1)) == pytest.approx(1.0)


def test_larger_text_scales_fonts_not_touch_targets_and_reset_restores_config() -> None:
    """GIVEN a theme configured normal WHEN A+ and high contrast are switched on, then the session ends
    THEN fonts grow ~1.35×, targets stay ≥ 15 mm, colours change, and reset() brings the configured look back."""
    theme = Theme(96)
    theme.fit(1280, 800)
    body, touch = theme.font_body, theme.touch
    theme.large_text = True
    theme.high_contrast = True
    assert theme.font_body == pytest.approx(body * LARGE_TEXT_SCALE)
    assert theme.touch == touch >= min_touch_px(96)
    assert tuple(theme.bg) == HIGH_CONTRAST.bg
    theme.reset()
    assert theme.font_body == pytest.approx(body) and not theme.high_contrast and tuple(theme.bg) == NORMAL.bg


def test_configured_defaults_are_where_a_session_starts() -> None:
    """GIVEN [kiosk] high_contrast = true and text_scale = 1.35 WHEN a villager turns both off and the session ends
    THEN the next one starts in high contrast with large text again."""
    theme = Theme(96, high_contrast=True, text_scale=1.35)
    assert theme.high_contrast and theme.large_text
    theme.high_contrast = theme.large_text = False
    assert theme.text_scale == 1.0
    theme.reset()
    assert theme.high_contrast and theme.text_scale == LARGE_TEXT_SCALE


def test_touch_minimum_follows_the_configured_dpi() -> None:
    """GIVEN a dense panel (160 dpi) WHEN the theme fits 1280×800 THEN targets grow to 15 mm (94.5 px)."""
    theme = Theme(160)
    theme.fit(1280, 800)
    assert min_touch_px(96) == pytest.approx(56.69, abs=0.01)
    assert theme.touch >= min_touch_px(160) == pytest.approx(94.49, abs=0.01)


def test_every_widget_of_every_screen_is_at_least_15_mm() -> None:
    """GIVEN the real app walked through every screen in every language, larger text and high contrast
    WHEN every button a finger can touch is measured THEN none is under 15 mm at the configured dpi."""
    report = _report()
    assert report["measured"] >= 100 and len(report["states"]) >= 12
    assert [i for i in report["issues"] if i["kind"] == "touch"] == []


def test_toggles_reach_every_screen_and_nothing_clips() -> None:
    """GIVEN the same walk (A+ and contrast touched on each screen) WHEN text and widget boxes are measured
    THEN no text runs out of its widget, nothing leaves the screen or overlaps (what a ScrollView holds counts
    only where it shows), and high contrast uses only its palette."""
    report = _report()
    layout = {"overflow", "outside", "overlap", "covered", "colour"}
    found = [i for i in report["issues"] if i["kind"] in layout]
    assert found == []
