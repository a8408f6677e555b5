"""The public page behind a receipt's QR code, over plain HTTP (tests/hub/test_status_page_browser.py looks at
it in a real phone-sized browser)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests

from hub import backoffice
from hub.models import HubState
from hub.page_texts import LANGUAGES, TEXTS
from tests.fixtures.hub_server import RunningHub

Maker = Any


def _page(hub: RunningHub, kiosk_id: str, token: str, **params: str) -> requests.Response:
    return requests.get(f"{hub.url}/r/{kiosk_id}/{token}", params=params, timeout=10)


def test_the_page_says_the_state_in_the_requests_language_and_nothing_personal(client: Any, make_item: Maker,
                                                                              hub_server: RunningHub) -> None:
    """GIVEN a request made in Georgian at "Sno community centre" WHEN its page is opened, then the clerk closes it
    THEN the page is Georgian: the service's title, the receipt number, the state in words, the centre; never the
    name, the personal number or the request id; small, no script; after the change it says ready, with where."""
    token = secrets.token_urlsafe(16)
    item = make_item(tracking_token=token, language="ka", centre="სნოს სათემო ცენტრი", service="birth_record_extract")
    assert client.submit([item]).json()["results"][0]["result"] == "accepted"
    page = _page(hub_server, client.kiosk.kiosk_id, token)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert '<html lang="ka">' in html and TEXTS["ka"]["state.received"] in html
    assert "დაბადების სააქტო ჩანაწერი" in html and "birth_record_extract" not in html  # the catalogue's title
    assert item["receipt_no"] in html and "სნოს სათემო ცენტრი" in html
    for secret in ("Nino", "01024056789", item["id"], "<script"):
        assert secret not in html
    assert len(page.content) <= 15_000
    assert "script-src" not in page.headers["content-security-policy"] and "default-src 'none'" in \
        page.headers["content-security-policy"]
    backoffice.set_status(hub_server.store, item["id"], HubState.CLOSED)
    ready = _page(hub_server, client.kiosk.kiosk_id, token).text
    assert TEXTS["ka"]["state.closed"] in ready and "სნოს სათემო ცენტრი" in ready


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_is_one_link_away(client: Any, make_item: Maker, hub_server: RunningHub, language: str) -> None:
    """GIVEN a request made in Georgian WHEN its page is asked for in another language THEN it comes in that
    language, with links to all five."""
    token = secrets.token_urlsafe(16)
    client.submit([make_item(tracking_token=token, language="ka")])
    html = _page(hub_server, client.kiosk.kiosk_id, token, lang=language).text
    assert f'<html lang="{language}">' in html and TEXTS[language]["title"] in html
    assert all(f'href="?lang={code}"' in html for code in LANGUAGES)


def test_the_requests_language_wins_over_the_phones(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN a request made in Armenian WHEN opened from a phone set to English THEN the page is Armenian (the
    villager chose it at the kiosk); the English link is there."""
    token = secrets.token_urlsafe(16)
    client.submit([make_item(tracking_token=token, language="hy", service="birth_record_extract")])
    answer = requests.get(f"{hub_server.url}/r/{client.kiosk.kiosk_id}/{token}",
                          headers={"Accept-Language": "en-US,en;q=0.9"}, timeout=10)
    assert '<html lang="hy">' in answer.text and "1 աշխատանքային օր" in answer.text
    assert 'href="?lang=en"' in answer.text


def test_an_unknown_token_gets_a_kind_404_in_the_phones_language(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a token nobody made WHEN opened from a Russian phone THEN 404 with the Russian explanation."""
    answer = requests.get(f"{hub_server.url}/r/{client.kiosk.kiosk_id}/{secrets.token_urlsafe(16)}",
                          headers={"Accept-Language": "ru-RU,ru;q=0.9"}, timeout=10)
    assert answer.status_code == 404 and TEXTS["ru"]["not_found.title"] in answer.text


def test_another_kiosks_token_opens_nothing_and_cannot_be_squatted(client: Any, make_item: Maker,
                                                                   hub_server: RunningHub) -> None:
    """GIVEN kiosk A's request with token T WHEN kiosk B sends a request with the same T THEN B's is its own (the page
    is per kiosk), A's page still shows A's; a second request of A's with T is refused (the token is A's)."""
    token = secrets.token_urlsafe(16)
    mine = make_item(tracking_token=token, receipt_no="A-1")
    client.submit([mine])
    other = type(client)(hub_server, hub_server.enroll_kiosk("other"), client.session)
    assert other.submit([make_item(tracking_token=token, receipt_no="B-1")]).json()["results"][0]["result"] == "accepted"
    assert "A-1" in _page(hub_server, client.kiosk.kiosk_id, token).text
    again = client.submit([make_item(tracking_token=token)]).json()["results"][0]
    assert (again["result"], again["reason"]) == ("rejected", "invalid:tracking_token_in_use")
    assert client.submit([mine]).json()["results"][0]["result"] == "duplicate"


def test_the_page_is_rate_limited_per_client(client: Any, hub_server: RunningHub) -> None:
    """GIVEN one client WHEN it opens pages faster than 60 a minute THEN 429 with Retry-After."""
    answers = [_page(hub_server, client.kiosk.kiosk_id, "x" * 22, lang="en") for _ in range(65)]
    assert [a.status_code for a in answers[:60]] == [404] * 60 and answers[-1].status_code == 429
    assert answers[-1].headers["retry-after"] == "60" and TEXTS["en"]["busy.title"] in answers[-1].text
