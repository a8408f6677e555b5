"""The page behind a receipt's QR code in a real browser: Debian's Chromium, driven by Selenium, as a cheap phone
(360×740 CSS px, JavaScript off, throttled to 2G). Screenshots in each language land in the test's folder; the
README's pictures come from the same page."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from hub import backoffice
from hub.models import HubState
from hub.page_texts import LANGUAGES, TEXTS
from tests.fixtures.browser import TWO_G, Phone, contrast_ratio
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.hub.conftest import SignedClient


@pytest.fixture(scope="module")
def page_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, SignedClient]]:
    """A hub holding one Georgian request with its tracking token, and the kiosk that sent it."""
    import base64
    import datetime as dt
    import uuid

    from protocol.sealing import PayloadSealer

    with start_hub(Path(tmp_path_factory.mktemp("pages")) / "hub") as hub, requests.Session() as session:
        client = SignedClient(hub, hub.enroll_kiosk("Sno"), session)
        sealed = PayloadSealer(hub.seal_public_key).seal({"citizen": {"given_name": "ნინო"}})
        client.submit([{"id": str(uuid.uuid4()), "receipt_no": "KSK-0001-261204-0001", "service": "birth_record_extract",
                        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "citizen_key": None,
                        "synthetic": False, "sealed": base64.b64encode(sealed).decode(), "language": "ka",
                        "centre": "სნოს სათემო ცენტრი", "tracking_token": TOKEN}])
        yield hub, client


TOKEN = secrets.token_urlsafe(16)


def _url(page_hub: tuple[RunningHub, SignedClient], **query: str) -> str:
    hub, client = page_hub
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return f"{hub.url}/r/{client.kiosk.kiosk_id}/{TOKEN}{suffix}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_on_a_2g_phone_without_javascript(page_hub: Any, phone_factory: Callable[..., Phone], tmp_path: Path,
                                                   language: str) -> None:
    """GIVEN a phone with JavaScript off on 2G WHEN it opens the QR's page in each language THEN it loads with
    status 200 in at most 15 KB on the wire, lays out 360 px wide, says the state and the receipt number in that
    language, its text is at least 7:1 against its background, and the screenshot is written."""
    phone = phone_factory(javascript_enabled=False, accept_language="en-US,en")
    phone.throttle(**TWO_G)
    load = phone.open(_url(page_hub, lang=language))
    assert load.status == 200 and load.bytes_on_wire <= 15_000, load
    text = phone.text()
    assert TEXTS[language]["state.received"] in text and "KSK-0001-261204-0001" in text
    assert TEXTS[language]["title"] in text
    for selector in ("h1", "dd", "dt", ".next", ".state", "nav a"):
        colour = phone.element_styles(selector, "color")["color"]
        assert contrast_ratio(colour, phone.effective_background(selector)) >= 7, selector
    picture = phone.screenshot(tmp_path / f"status-{language}.png", full_page=False)
    with Image.open(picture) as image:
        assert image.width == 720  # 360 CSS px at the phone's pixel ratio of 2: nothing wider than the screen


def test_a_change_of_state_shows_on_the_next_visit(page_hub: Any, phone: Phone) -> None:
    """GIVEN the request closed by a clerk WHEN the page is opened again THEN it says ready and where to collect."""
    hub, client = page_hub
    [item_id] = [row[0] for row in hub.query("SELECT id FROM submissions WHERE tracking_token = :t", t=TOKEN)]
    backoffice.set_status(hub.store, item_id, HubState.CLOSED, kiosk_id=client.kiosk.kiosk_id)
    assert phone.open(_url(page_hub)).status == 200
    assert TEXTS["ka"]["state.closed"] in phone.text() and "სნოს სათემო ცენტრი" in phone.text()


def test_an_unknown_code_is_a_kind_404_in_the_phones_language(page_hub: Any, phone_factory: Callable[..., Phone]) -> None:
    """GIVEN a Russian phone WHEN it opens a page nobody made THEN 404 with the Russian words, not an error dump."""
    hub, client = page_hub
    phone = phone_factory(javascript_enabled=False, accept_language="ru-RU,ru")
    load = phone.open(f"{hub.url}/r/{client.kiosk.kiosk_id}/{secrets.token_urlsafe(16)}")
    assert load.status == 404 and TEXTS["ru"]["not_found.title"] in phone.text()
