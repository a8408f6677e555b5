"""Configuration: TOML, environment overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.bootstrap import build_services
from kiosk.config import ConfigError, load_settings


def test_toml_and_environment_override(tmp_path: Path) -> None:
    """GIVEN a TOML file and KIOSK_PRINTER_URI in the environment
    WHEN settings load
    THEN the file's values apply and the environment wins for its key."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nkiosk_id = "KSK-0042"\nidle_timeout_s = 90\n[printer]\nuri = "tcp://10.0.0.5:9100"\n')
    settings = load_settings(config, env={"KIOSK_PRINTER_URI": "file:///tmp/r.bin", "KIOSK_DISPLAY_FULLSCREEN": "no"})
    assert settings.kiosk.kiosk_id == "KSK-0042"
    assert settings.kiosk.idle_timeout_s == 90.0
    assert settings.printer.uri == "file:///tmp/r.bin"
    assert settings.display.fullscreen is False
    assert settings.source == config


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("", {"KIOSK_KIOSK_LANGUAGE": "fr"}, "kiosk.language (from KIOSK_KIOSK_LANGUAGE): 'fr' is not allowed; use one of 'ka'"),
        ("[printer]\nuri = \"lpt1\"\n", {}, "printer.uri: 'lpt1' is not allowed"),
        ("[printer]\npaper_width_dots = 400\n", {}, "printer.paper_width_dots: 400 is not allowed; use one of 384, 512, 576"),
        ("[kiosk]\nidle_timeout_s = \"soon\"\n", {}, "kiosk.idle_timeout_s: 'soon' is not a valid float"),
        ("[kiosk]\ncolour = \"red\"\n", {}, "kiosk.colour: unknown setting"),
        ("[screen]\nwidth = 3\n", {}, "[screen]: unknown section"),
        ("", {"KIOSK_DISPLAY_FULLSCREEN": "maybe"}, "display.fullscreen (from KIOSK_DISPLAY_FULLSCREEN): 'maybe' is not a valid bool"),
        ("[kiosk\n", {}, "is not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], message: str) -> None:
    """GIVEN a bad setting WHEN settings load THEN the error names the key and what is allowed."""
    config = tmp_path / "kiosk.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(config, env=env)
    assert message in str(err.value)


def test_unknown_driver_lists_valid_ones(tmp_path: Path) -> None:
    """GIVEN KIOSK_CARD_DRIVER / KIOSK_CARD_READER naming no adapter WHEN services are built
    THEN the error names the key and lists the valid names."""
    settings = load_settings(None, env={"KIOSK_CARD_DRIVER": "nfc", "KIOSK_KIOSK_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"card.driver: 'nfc'; use one of 'simulated', 'pkcs11'"):
        build_services(settings)
    settings = load_settings(None, env={"KIOSK_CARD_DRIVER": "pkcs11", "KIOSK_CARD_READER": "nfc",
                                        "KIOSK_KIOSK_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"card.reader: 'nfc'; use one of 'pcsc', 'pkcs11'"):
        build_services(settings)


def test_pkcs11_driver_needs_an_existing_module(tmp_path: Path) -> None:
    """GIVEN the pkcs11 driver WHEN the module path is missing or wrong THEN the error says which."""
    env = {"KIOSK_CARD_DRIVER": "pkcs11", "KIOSK_KIOSK_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="card.pkcs11_module: not set"):
        build_services(load_settings(None, env=env))
    env["KIOSK_CARD_PKCS11_MODULE"] = str(tmp_path / "nowhere.so")
    with pytest.raises(ConfigError, match="nowhere.so does not exist"):
        build_services(load_settings(None, env=env))


def test_production_defaults_never_fall_back_to_simulated(tmp_path: Path) -> None:
    """GIVEN no configuration WHEN `kiosk run` would build services THEN it refuses instead of simulating."""
    settings = load_settings(None, env={"KIOSK_KIOSK_DATA_DIR": str(tmp_path)})
    assert not settings.is_simulated
    with pytest.raises(ConfigError, match="card.driver: not set"):
        build_services(settings)


def test_example_configuration_is_valid() -> None:
    """GIVEN deploy/kiosk.example.toml WHEN loaded THEN every key in it is known and valid."""
    example = Path(__file__).resolve().parents[2] / "deploy" / "kiosk.example.toml"
    settings = load_settings(example, env={})
    assert settings.printer.profile == "80mm" and settings.kiosk.idle_timeout_s == 60


def test_a_status_url_printing_the_request_id_is_refused(tmp_path: Path) -> None:
    """GIVEN receipt.status_url with {id} WHEN the settings load THEN a ConfigError says why and what to use:
    the request id is the hub's idempotency key and is never printed."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[receipt]\nstatus_url = "https://my.gov.ge/requests/{id}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"receipt.status_url: \{id\} would print .* use \{receipt\}"):
        load_settings(config, env={"KIOSK_KIOSK_DATA_DIR": str(tmp_path)})
