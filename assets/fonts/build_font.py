"""Build the "Kiosk Sans" fonts bundled with the kiosk.

Kivy labels have no font fallback: every character of a label must come
from the single font named by ``font_name``.  The kiosk shows Georgian,
Armenian, Cyrillic and Latin (including Azerbaijani) text side by side, and
no single Noto font covers all of these scripts.  This script therefore
subsets Noto Sans, Noto Sans Georgian, Noto Sans Armenian and Noto Sans
Symbols/Symbols2 (for the arrows and the check mark) to the characters the
kiosk needs, drops hinting to keep the files small, merges them into one
font per weight and renames the result "Kiosk Sans": the SIL OFL forbids
using the reserved name "Noto" for a modified version.

The vertical metrics of the merged font are recomputed from the outlines,
so that the tallest Georgian/Armenian glyph still fits the line box and
Kivy does not clip it.

Usage: python build_font.py [--source-dir DIR] [--out-dir DIR]
Requires fontTools; the sources come from Debian's fonts-noto-core.
"""

import argparse
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib import TTFont

FAMILY = "Kiosk Sans"
VERSION = "1.000"

LATIN_CYRILLIC_PUNCT = [
    *range(0x0020, 0x007F),  # Basic Latin
    *range(0x00A0, 0x0180),  # Latin-1 Supplement, Latin Extended-A
    0x018F, 0x0259,          # Azerbaijani schwa: Ə ə
    *range(0x0400, 0x0500),  # Cyrillic
    *range(0x2000, 0x2070),  # General Punctuation
    *range(0x20A0, 0x20C1),  # Currency Symbols (₾ lari, ₼ manat, € ...)
    0x2116,                  # № numero sign
]
GEORGIAN = [*range(0x10D0, 0x1100), *range(0x1C90, 0x1CC0)]  # Mkhedruli, Mtavruli
ARMENIAN = [*range(0x0530, 0x0590), *range(0xFB13, 0xFB18)]  # incl. ligatures
ARROWS = list(range(0x2190, 0x2194))  # ← ↑ → ↓
CHECK_MARK = [0x2713, 0x2716, 0x232B, 0x25CB, 0x25CF]  # ✓ ✖ ⌫ ○ ● (keypads, PIN dots)

# (source file, code points).  The code point sets are disjoint; the first font
# supplies the global tables (OS/2, post, ...) and the .notdef glyph.
# "{style}" is replaced by Regular/Bold; Noto Sans Symbols2 only ships Regular.
SOURCES = [
    ("NotoSans-{style}.ttf", LATIN_CYRILLIC_PUNCT),
    ("NotoSansGeorgian-{style}.ttf", GEORGIAN),
    ("NotoSansArmenian-{style}.ttf", ARMENIAN),
    ("NotoSansSymbols-{style}.ttf", ARROWS),
    ("NotoSansSymbols2-Regular.ttf", CHECK_MARK),
]
STYLES = ("Regular", "Bold")


def subset_font(src, unicodes, dest):
    """Write the glyphs of ``src`` needed for ``unicodes`` to ``dest``, unhinted."""
    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.glyph_names = True
    options.drop_tables += ["DSIG"]
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    subset.save_font(font, str(dest), options)


def fix_vertical_metrics(font, base):
    """Make hhea/typo/win ascent and descent cover every glyph of the font.

    Starts from the metrics of ``base`` (Noto Sans) and grows them if any
    merged glyph (e.g. tall Georgian or Armenian letters) would stick out;
    the taller Noto Sans Symbols line metrics are deliberately not inherited.
    """
    glyf = font["glyf"]
    ascent, descent = base["hhea"].ascent, base["hhea"].descent
    for name in font.getGlyphOrder():
        glyph = glyf[name]
        if glyph.numberOfContours:
            glyph.recalcBounds(glyf)
            ascent, descent = max(ascent, glyph.yMax), min(descent, glyph.yMin)
    hhea, os2 = font["hhea"], font["OS/2"]
    hhea.ascent, hhea.descent, hhea.lineGap = ascent, descent, 0
    os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap = ascent, descent, 0
    os2.usWinAscent, os2.usWinDescent = ascent, -descent
    os2.fsSelection |= 1 << 7  # USE_TYPO_METRICS (typo == hhea == win anyway)
    return ascent, descent


def rename(font, style, sources):
    """Replace the Noto names (OFL reserved) with Kiosk Sans ones.

    Copyright and designer credits of all sources are kept, as the OFL asks.
    """
    copyrights = dict.fromkeys(src["name"].getDebugName(0) for src in sources)
    designers = dict.fromkeys(
        part.strip() for src in sources for part in src["name"].getDebugName(9).split(",")
    )
    ps_name = f"{FAMILY.replace(' ', '')}-{style}"
    source_names = ", ".join(src["name"].getDebugName(4) for src in sources)
    names = {
        0: " ".join(copyrights),
        1: FAMILY,
        2: style,
        3: f"{VERSION};KIOSK;{ps_name}",
        4: f"{FAMILY} {style}",
        5: f"Version {VERSION}",
        6: ps_name,
        9: ", ".join(designers),
        10: f"{FAMILY} is a subset and merge of {source_names}.",
    }
    table = font["name"]
    for name_id in (7, 16, 17, 21, 22, 25, *names):  # 7: "Noto" trademark
        table.removeNames(nameID=name_id)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
    font["head"].fontRevision = float(VERSION)


def build(source_dir, out_dir, style):
    files = [pattern.format(style=style) for pattern, _ in SOURCES]
    sources = [TTFont(source_dir / f, lazy=True) for f in files]
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for filename, (_, unicodes) in zip(files, SOURCES):
            part = Path(tmp) / filename
            subset_font(source_dir / filename, unicodes, part)
            parts.append(part)
        font = Merger().merge([str(p) for p in parts])
    ascent, descent = fix_vertical_metrics(font, sources[0])
    rename(font, style, sources)
    os2 = font["OS/2"]
    os2.recalcUnicodeRanges(font)
    os2.recalcCodePageRanges(font)
    os2.recalcAvgCharWidth(font)
    # Reproducible output: take the timestamps from the sources, not "now".
    font.recalcTimestamp = False
    font["head"].created = sources[0]["head"].created
    font["head"].modified = max(src["head"].modified for src in sources)
    out = out_dir / f"{FAMILY.replace(' ', '')}-{style}.ttf"
    font.save(out)
    print(
        f"{out.name}: {out.stat().st_size} bytes, {len(font.getGlyphOrder())} glyphs, "
        f"{len(font.getBestCmap())} code points, ascent/descent {ascent}/{descent}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source-dir", type=Path, default=Path("/usr/share/fonts/truetype/noto"),
        help="directory containing the Noto TTF files (default: %(default)s)",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=Path(__file__).resolve().parent,
        help="where to write KioskSans-*.ttf (default: this script's folder)",
    )
    args = parser.parse_args()
    for style in STYLES:
        build(args.source_dir, args.out_dir, style)


if __name__ == "__main__":
    main()
