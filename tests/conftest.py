"""Shared fixtures: the kiosk wired by the real composition root with simulated twins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.bootstrap import build_services
from kiosk.config import Settings, load_settings
from kiosk.services import Services
from tests.fixtures.browser import phone, phone_factory, shared_phone  # noqa: F401  (pytest fixtures)
from tests.fixtures.clock import FakeClock
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.postgres import postgres_cluster, postgres_url  # noqa: F401  (pytest fixtures)
from tests.fixtures.sms_gateway import sms_gateway  # noqa: F401  (a pytest fixture)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _headless_kivy(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Anything that starts Kivy renders offscreen and keeps its files in a temp dir."""
    os.environ["SDL_VIDEODRIVER"] = "offscreen"
    os.environ["KIVY_HOME"] = str(tmp_path_factory.mktemp("kivy-home"))
    os.environ["KIVY_NO_ARGS"] = "1"


@pytest.fixture
def demo_settings(tmp_path: Path) -> Settings:
    """Settings as ``kiosk demo`` makes them, with data in a temp dir."""
    return load_settings(None, env={}).simulated(tmp_path / "data")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(demo_settings: Settings, clock: FakeClock) -> Services:
    """The kiosk's services from ``build_services`` with simulated hardware and a fake clock."""
    built = build_services(demo_settings, clock=clock.wall, monotonic=clock.monotonic)
    built.card_reader.start(built.journey.on_card_event)
    yield built
    built.close()


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[RunningHub]:
    """A real hub on loopback in this test's temp dir, stopped afterwards."""
    with start_hub(tmp_path / "hub") as hub:
        yield hub
