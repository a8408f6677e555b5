"""The ``system`` section of the diagnostics: disk, memory, load, temperature, versions, config, last errors.

Everything is read from files the kernel and the kiosk already keep (``/proc``, ``/sys``, the
log), so it works offline and without root. Secrets in the configuration are hidden, and log
lines are redacted like the diagnostic bundle's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import re
import shutil
import sqlite3
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import Settings

SECRET_NAME = re.compile(r"(_hash|password|secret|private_key)$")
PERSONAL_NUMBER = re.compile(r"(?<!\d)\d{11}(?!\d)")
# The log is English by design; runs of Georgian, Armenian or Cyrillic letters can only be a
# name or an answer that should never have been logged.
NATIONAL_SCRIPT = re.compile(r"[\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f\u0530-\u058f\u0400-\u04ff]+")
PIN_LIKE = re.compile(r"(?i)\b(pin|puk|passcode|password)(\W{0,3})\d+")
PACKAGES = ("community-kiosk", "kivy", "pyscard", "python-pkcs11", "python-escpos", "pynacl", "cryptography",
            "sqlite-utils", "requests")
ERROR_LEVELS = (" ERROR ", " CRITICAL ")


@dataclass(frozen=True)
class DiskThresholds:
    """Free space in the data directory below which the system section warns, then fails."""

    warning_bytes: int = 1_000_000_000
    error_bytes: int = 200_000_000


DEFAULT_DISK = DiskThresholds()  # frozen: one shared default is safe


def redact(text: str) -> str:
    """``text`` without personal numbers, national-script words (names) or anything after "PIN"."""
    text = PERSONAL_NUMBER.sub("[personal-number]", text)
    text = NATIONAL_SCRIPT.sub("[text]", text)
    return PIN_LIKE.sub(lambda m: f"{m.group(1)}{m.group(2)}[hidden]", text)


def redacted_config(settings: Settings, *, fingerprint_secrets: bool = False) -> dict[str, Any]:
    """The settings as plain data, secrets replaced by ``(set, hidden)``.

    ``fingerprint_secrets`` shows a short hash of each secret instead, so that a changed secret
    counts as a configuration change (for the audit log, which stores only digests anyway).
    """
    out: dict[str, Any] = {"source": str(settings.source) if settings.source else None}
    for group in dataclasses.fields(settings):
        value = getattr(settings, group.name)
        if not dataclasses.is_dataclass(value):
            continue
        items = {}
        for item in dataclasses.fields(value):
            raw = getattr(value, item.name)
            if SECRET_NAME.search(item.name):
                hidden = "sha256:" + hashlib.sha256(str(raw).encode()).hexdigest()[:12] if fingerprint_secrets \
                    else "(set, hidden)"
                items[item.name] = hidden if raw else ""
            else:
                items[item.name] = str(raw) if isinstance(raw, Path) else raw
        out[group.name] = items
    return out


def versions() -> dict[str, str | None]:
    """This kiosk's software: Python, SQLite, the OS and the main packages (never importing them)."""
    from importlib import metadata  # ~10 ms, for diagnostics only: not on the kiosk's start-up path

    found: dict[str, str | None] = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
                                    "os": _os_name(), "kernel": platform.release()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def memory(meminfo: Path = Path("/proc/meminfo")) -> dict[str, int] | None:
    """Total and available memory in bytes, from ``/proc/meminfo``."""
    try:
        fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
        return {"total_bytes": int(fields["MemTotal"].split()[0]) * 1024,
                "available_bytes": int(fields["MemAvailable"].split()[0]) * 1024}
    except (OSError, KeyError, ValueError):
        return None


def cpu_temperatures(thermal: Path = Path("/sys/class/thermal")) -> dict[str, float]:
    """Degrees Celsius per readable thermal zone (none in most VMs)."""
    temps: dict[str, float] = {}
    for zone in sorted(thermal.glob("thermal_zone*")):
        try:
            kind = (zone / "type").read_text().strip()
            temps[f"{zone.name}:{kind}"] = int((zone / "temp").read_text().strip()) / 1000
        except (OSError, ValueError):
            continue
    return temps


def last_errors(log_path: Path, count: int = 10) -> list[str]:
    """The last ``count`` ERROR or CRITICAL lines of the kiosk log (and its last rotated file), redacted."""
    found: deque[str] = deque(maxlen=count)
    for path in (log_path.with_name(log_path.name + ".1"), log_path):
        try:
            with open(path, encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if any(level in line for level in ERROR_LEVELS):
                        found.append(redact(line.rstrip()))
        except OSError:
            continue
    return list(found)


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def system_section(settings: Settings, *, disk: DiskThresholds = DEFAULT_DISK, log_path: Path,
                   hot_c: float = 85.0, low_memory_bytes: int = 100_000_000) -> dict[str, Any]:
    """Disk free in the data directory (against ``disk``), memory, load, temperatures, versions, config, errors."""
    data = settings.kiosk.data_dir
    probe = data if data.exists() else next((p for p in data.parents if p.exists()), Path("/"))
    usage = shutil.disk_usage(probe)
    mem = memory()
    temps = cpu_temperatures()
    details = {
        "data_dir": str(data), "disk_free_bytes": usage.free, "disk_total_bytes": usage.total,
        "memory": mem, "load": list(os.getloadavg()), "cpu_count": os.cpu_count(),
        "cpu_temperature_c": temps or None, "versions": versions(), "config": redacted_config(settings),
        "last_errors": last_errors(log_path),
    }
    words = [f"{_gb(usage.free)} free in the data directory"]
    status, problems = "ok", []
    if usage.free < disk.error_bytes:
        status, problems = "error", [f"disk nearly full: only {_gb(usage.free)} free"]
    elif usage.free < disk.warning_bytes:
        status, problems = "warning", [f"disk getting full: {_gb(usage.free)} free"]
    if mem and mem["available_bytes"] < low_memory_bytes:
        status = "error" if status == "error" else "warning"
        problems.append(f"memory low: {_gb(mem['available_bytes'])} available")
    if temps and max(temps.values()) >= hot_c:
        status = "error" if status == "error" else "warning"
        problems.append(f"CPU hot: {max(temps.values()):.0f} °C")
    if mem:
        words.append(f"{_gb(mem['available_bytes'])} memory available")
    words.append(f"load {os.getloadavg()[0]:.2f}")
    return {"status": status, "reason": "; ".join(problems or words), **details}
