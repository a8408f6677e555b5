"""Where python-escpos keeps its parsed printer database; called once at start-up, before escpos is imported."""

from __future__ import annotations

import os
from pathlib import Path


def keep_capabilities_cache() -> None:
    """Let python-escpos keep its parsed printer database between runs.

    It reads ``ESCPOS_CAPABILITIES_PICKLE_DIR`` when first imported; unset, it parses its YAML
    database again (~0.2 s of every start) and leaves a pickle in a new temp folder each time.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "community-kiosk" / "escpos"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home: escpos falls back to its own temp folder
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache))
