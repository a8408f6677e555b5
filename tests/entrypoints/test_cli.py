"""The `kiosk` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def test_help_describes_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN `kiosk --help` and each subcommand's help WHEN printed THEN they describe run, demo, diag and --config."""
    parser = build_parser()
    text = parser.format_help()
    for command in ("run", "demo", "diag", "--config"):
        assert command in text
    for command in ("run", "demo", "diag"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--config" in capsys.readouterr().out


def test_diag_reports_a_config_error_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an unconfigured kiosk WHEN `kiosk diag --json` runs THEN it names the missing setting and exits 1."""
    monkeypatch.setenv("KIOSK_KIOSK_DATA_DIR", str(tmp_path))
    assert main(["diag", "--json"]) == 1
    assert "card.driver: not set" in json.loads(capsys.readouterr().out)["config_error"]


def test_bad_config_value_exits_2_with_the_key(tmp_path: Path) -> None:
    """GIVEN KIOSK_CARD_READER=nfc WHEN `python -m entrypoints run` starts THEN it exits 2 naming the key and valid names."""
    env = {**os.environ, "KIOSK_CARD_DRIVER": "nfc", "KIOSK_KIOSK_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "entrypoints", "run"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 2
    assert "card.driver: 'nfc'; use one of 'simulated', 'pkcs11'" in proc.stderr


def test_core_never_imports_kivy() -> None:
    """GIVEN the core packages WHEN every module is imported THEN kivy was never loaded."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import kiosk, hardware, offline\n"
        "for pkg in (kiosk, hardware, offline):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name != 'entrypoints.__main__': importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'kivy'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
