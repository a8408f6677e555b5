"""Typed, frozen settings loaded once from TOML plus ``KIOSK_<SECTION>_<KEY>`` overrides.

Every value has a type and, where it is a choice, the allowed values; a bad value raises
``ConfigError`` naming the key (``printer.uri``) and what would be accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kiosk.clock import DEFAULT_TIMEZONE, zone

LANGUAGES = ("ka", "en", "ru", "az", "hy")


class ConfigError(ValueError):
    """A setting is missing, unknown or has a value outside what is allowed."""


def default_data_dir() -> Path:
    """Per-user data directory (XDG), used when ``[kiosk] data_dir`` is not set."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "community-kiosk"


@dataclass(frozen=True)
class KioskSettings:
    """The kiosk itself: where it keeps data, who it is, how it talks to people."""

    data_dir: Path = field(default_factory=default_data_dir)
    kiosk_id: str = "KSK-0001"
    centre_name: str = "Community Centre"
    language: Literal["ka", "en", "ru", "az", "hy"] = "ka"
    timezone: str = DEFAULT_TIMEZONE  # IANA zone for what people read (screens, receipts, receipt numbers, day report)
    idle_timeout_s: float = 60.0
    idle_countdown_s: float = 15.0
    high_contrast: bool = False  # start in the high-contrast theme (villagers can switch it on any screen)
    text_scale: float = 1.0  # 1.0 normal; villagers can ask for larger text on screen
    audio_guidance: Literal["auto", "on", "off"] = "auto"  # auto: spoken prompts when espeak-ng is installed

    @property
    def zone(self) -> dt.tzinfo:
        """``timezone`` as a zone (checked when the settings were loaded)."""
        return zone(self.timezone)


@dataclass(frozen=True)
class DisplaySettings:
    """Window geometry; ``kiosk run`` uses fullscreen, ``kiosk demo`` a window."""

    width: int = 1280
    height: int = 800
    fullscreen: bool = True
    dpi: float = 96.0


@dataclass(frozen=True)
class CardSettings:
    """Where ID cards come from; drivers are checked against the adapters ``bootstrap`` knows."""

    driver: str = ""
    reader: str = ""
    pkcs11_module: str = ""
    token_label: str = ""
    trust_anchors: str = ""
    personal_number_field: str = "serialNumber"
    revocation: Literal["require", "prefer", "off"] = "prefer"  # require: refuse when status unknown
    crl_dir: str = ""  # folder of CRLs (DER or PEM), refreshed from the hub
    crl_max_age_h: float = 72.0  # a CRL older than this (past nextUpdate + this) no longer counts
    ocsp_timeout_s: float = 3.0  # OCSP is asked first when the certificate names a responder


@dataclass(frozen=True)
class PrinterSettings:
    """The receipt printer, chosen by URI (``simulated``, ``file:///path``, ``tcp://host:9100``...).

    Empty means "no printer configured": receipts are then shown on screen only.
    """

    uri: str = ""
    paper_width_dots: Literal[384, 512, 576] = 576
    profile: str = ""  # a name from hardware.printer_profiles.PROFILES; empty = most cautious for the width
    mode: Literal["raster", "udc"] = "raster"  # udc: Georgian as downloaded characters, for slow serial links


@dataclass(frozen=True)
class HubSettings:
    """The central hub; an empty URL means "not enrolled yet", requests stay queued."""

    url: str = ""
    public_key: str = ""  # hub's sealing key (base64); normally pinned at enrolment instead
    sync_interval_s: float = 30.0
    batch_max_items: int = 200
    batch_max_bytes: int = 256_000
    timeout_s: float = 15.0


@dataclass(frozen=True)
class AccessSettings:
    """Who may open the staff and technician modes besides the hub's signed role list."""

    technician_passcode_hash: str = ""  # scrypt hash made by `kiosk passcode-hash`; empty = no passcode
    passcode_max_tries: int = 5
    passcode_lockout_s: float = 300.0


@dataclass(frozen=True)
class ReceiptSettings:
    """What the receipt links to."""

    status_url: str = "https://my.gov.ge/requests/{receipt}"


@dataclass(frozen=True)
class Settings:
    """All settings; built by ``load_settings`` and never changed afterwards."""

    kiosk: KioskSettings = field(default_factory=KioskSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    card: CardSettings = field(default_factory=CardSettings)
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    receipt: ReceiptSettings = field(default_factory=ReceiptSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    source: Path | None = None

    @property
    def is_simulated(self) -> bool:
        """True when any device is a simulated twin (the screen then shows a banner)."""
        return "simulated" in (self.card.driver, self.card.reader, self.printer.uri)

    def simulated(self, data_dir: Path | None = None) -> Settings:
        """These settings with every device simulated (``kiosk demo``), optionally elsewhere."""
        return dataclasses.replace(
            self,
            kiosk=dataclasses.replace(self.kiosk, data_dir=data_dir or self.kiosk.data_dir / "demo"),
            card=dataclasses.replace(self.card, driver="simulated", reader="simulated", trust_anchors=""),
            printer=dataclasses.replace(self.printer, uri="simulated"),
            display=dataclasses.replace(self.display, fullscreen=False),
        )


_SECTIONS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "source"}


def _convert(key: str, hint: Any, raw: Any) -> Any:
    """Turn a TOML or environment value into ``hint``'s type, or raise ConfigError."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        for choice in allowed:
            if raw == choice or str(raw).strip() == str(choice):
                return choice
        listed = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{key}: {raw!r} is not allowed; use one of {listed}")
    try:
        if hint is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if hint is int and not isinstance(raw, bool):
            return int(raw)
        if hint is float and not isinstance(raw, bool):
            return float(raw)
        if hint is Path:
            return Path(os.path.expanduser(str(raw)))
        if hint is str:
            if not isinstance(raw, (str, int, float)):
                raise ValueError(raw)
            return str(raw)
    except ValueError:
        pass
    name = getattr(hint, "__name__", str(hint))
    raise ConfigError(f"{key}: {raw!r} is not a valid {name}")


def _section(name: str, cls: type, table: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown setting; known: {', '.join(sorted(known))}")
    values = {}
    for key in known:
        env_name = f"KIOSK_{name}_{key}".upper()
        if env_name in env:
            values[key] = _convert(f"{name}.{key} (from {env_name})", hints[key], env[env_name])
        elif key in table:
            values[key] = _convert(f"{name}.{key}", hints[key], table[key])
    return cls(**values)


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (TOML, optional) and apply ``KIOSK_<SECTION>_<KEY>`` overrides from ``env``."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"[{unknown[0]}]: unknown section; known: {', '.join(sorted(_SECTIONS))}")
    sections = {}
    for name in _SECTIONS:
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] must be a table")
        sections[name] = _section(name, typing.get_type_hints(Settings)[name], table, env)
    settings = Settings(**sections, source=Path(path) if path else None)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    """Cross-field rules that a single type cannot express."""
    if settings.kiosk.idle_timeout_s < 10:
        raise ConfigError("kiosk.idle_timeout_s: must be at least 10 seconds")
    if not 0 < settings.kiosk.idle_countdown_s < settings.kiosk.idle_timeout_s:
        raise ConfigError("kiosk.idle_countdown_s: must be above 0 and below kiosk.idle_timeout_s")
    if not 1.0 <= settings.kiosk.text_scale <= 1.5:
        raise ConfigError("kiosk.text_scale: must be from 1.0 to 1.5 (1.35 is the A+ size)")
    try:
        zone(settings.kiosk.timezone)
    except ValueError:
        raise ConfigError(f"kiosk.timezone: {settings.kiosk.timezone!r} is not a known IANA time zone "
                          "(e.g. 'Asia/Tbilisi')") from None
    if "{id}" in settings.receipt.status_url:
        raise ConfigError("receipt.status_url: {id} would print the request's idempotency key, which lets "
                          "anyone holding the receipt block the request; use {receipt} (the receipt number)")
    if "{receipt}" not in settings.receipt.status_url:
        raise ConfigError("receipt.status_url: must contain {receipt}")
    uri = settings.printer.uri
    schemes = ("simulated", "file://", "tcp://", "usb://", "serial://")
    if uri and not (uri == "simulated" or uri.startswith(schemes[1:])):
        raise ConfigError(f"printer.uri: {uri!r} is not allowed; use one of 'simulated', "
                          "'file:///path', 'tcp://HOST:PORT', 'usb://VID:PID', 'serial:///dev/ttyX'")
