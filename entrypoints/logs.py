"""Where the kiosk's log goes: a rotating file in the data folder, warnings also on the console."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def setup_logging(data_dir: Path, quiet: bool) -> None:
    """Log to a rotating file in the data directory; warnings also to stderr."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(logs / "kiosk.log", maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if not quiet:
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        root.addHandler(console)
