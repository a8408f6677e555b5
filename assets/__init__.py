"""Fonts, translations, the service catalogue and images, located relative to this package."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent


def font_path(bold: bool = False) -> Path:
    """The bundled Kiosk Sans font: Georgian, Armenian, Cyrillic, Latin and ₾ in one face."""
    return ASSETS_DIR / "fonts" / ("KioskSans-Bold.ttf" if bold else "KioskSans-Regular.ttf")
