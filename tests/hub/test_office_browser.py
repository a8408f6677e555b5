"""The back office in a real browser: Debian's Chromium driven by Selenium, a 1366×768 desk window.

A clerk signs in by keyboard alone, is refused with a wrong password, works a request from the list to
"ready to collect" (the kiosk's feed and the villager's status page see it), is kept out of the fleet; a
technician sees the silent kiosk first. Every page is photographed in Georgian and English into the test's
folder (``OFFICE_PICTURES=dir`` keeps them: the README's pictures come from there), and the text, links
and buttons are checked for a contrast of at least 7:1 and every field for its label.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.office.accounts import Accounts, Role
from tests.fixtures.browser import Phone, contrast_ratio
from tests.fixtures.clock import real_now
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.presence import request_item
from tests.hub.conftest import SignedClient

PASSWORD = "correct horse battery"
DESK = (1366, 768)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, SignedClient, dict[str, Any]]]:
    """A hub with a clerk and a technician, a kiosk that beats and sent one request, and one never heard from."""
    folder = Path(tmp_path_factory.mktemp("office"))
    with start_hub(folder / "hub") as hub, requests.Session() as session:
        accounts = Accounts(hub.store, hub.keys)
        accounts.add("nino", Role.CLERK, PASSWORD)
        accounts.add("giorgi", Role.TECHNICIAN, PASSWORD)
        accounts.add("tamar", Role.ADMIN, PASSWORD)
        client = SignedClient(hub, hub.enroll_kiosk("Sno"), session)
        beat = json.dumps({"version": "0.1.0", "queue": {"queued": 0}, "printer": "ready", "reader": "1 reader(s)"})
        client.call("POST", "/v1/heartbeat", beat.encode())
        silent = hub.enroll_kiosk("Mestia")
        item = request_item(hub.seal_public_key, personal_number="01024085083", submitted_at=real_now(), token=None,
                            language="ka", centre="სნოს სათემო ცენტრი", tracking_token="t" * 22)
        assert client.submit([item]).json()["results"][0]["result"] == "accepted"
        yield hub, client, {"item": item, "silent": silent.kiosk_id, "folder": folder}


@pytest.fixture
def desk(phone_factory: Callable[..., Phone]) -> Phone:
    """A desktop Chromium window, 1366×768, Georgian first."""
    return phone_factory(desk=DESK, pixel_ratio=1, accept_language="ka,en")


def shoot(browser: Phone, office: tuple[RunningHub, SignedClient, dict[str, Any]], name: str) -> Path:
    """A picture of the viewport, kept in the test folder (and in ``$OFFICE_PICTURES`` when set)."""
    target = office[2]["folder"] / f"{name}.png"
    browser.driver.execute_async_script("const done = arguments[0]; document.fonts.ready.then(() => done(true));")
    browser.screenshot(target, full_page=False)
    keep = os.environ.get("OFFICE_PICTURES")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(keep) / target.name)
    return target


def sign_in_by_keyboard(browser: Phone, url: str, username: str, password: str) -> None:
    """The login form filled and sent with the keyboard alone: type, Tab, type, Tab, Tab, Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.open(url + "/office/login")
    active = browser.driver.switch_to.active_element
    assert active.get_attribute("id") == "username"  # the first field has the focus on arrival
    active.send_keys(username, Keys.TAB)
    browser.driver.switch_to.active_element.send_keys(password, Keys.TAB)
    assert browser.driver.switch_to.active_element.get_attribute("id") == "totp"
    browser.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.driver.switch_to.active_element.get_attribute("type") == "submit"
    page = browser.driver.find_element(By.TAG_NAME, "html")
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser.driver, 10).until(expected_conditions.staleness_of(page))


def submit(browser: Phone, button_id: str) -> None:
    """Press a form's button and wait until the next page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.driver.find_element(By.TAG_NAME, "html")
    browser.driver.find_element(By.ID, button_id).click()
    WebDriverWait(browser.driver, 10).until(expected_conditions.staleness_of(page))


def check_readable(browser: Phone) -> None:
    """Every visible field has its label; body text, links and buttons have a contrast of at least 7:1."""
    unlabelled = browser.driver.execute_script(
        "return [...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".filter(el => !el.id || !document.querySelector(`label[for=\"${el.id}\"]`)).map(el => el.name)")
    assert unlabelled == []
    for selector in ("main", "main a", "button", ".top a", "th"):
        try:
            colour = browser.element_styles(selector, "color")["color"]
        except LookupError:
            continue
        ratio = contrast_ratio(colour, browser.effective_background(selector))
        assert ratio >= 7, (selector, ratio)


def test_a_clerk_signs_in_by_keyboard_after_a_wrong_password(office: Any, desk: Phone) -> None:
    """GIVEN the login page WHEN a wrong password is sent THEN it says so in Georgian; WHEN the right one is typed
    with the keyboard alone THEN the requests list opens, showing the kiosk's request."""
    hub, _client, facts = office
    sign_in_by_keyboard(desk, hub.url, "nino", "not the password")
    assert "არასწორია" in desk.text()
    check_readable(desk)
    shoot(desk, office, "ka-login-refused")
    sign_in_by_keyboard(desk, hub.url, "nino", PASSWORD)
    assert desk.driver.current_url.endswith("/office/requests") and facts["item"]["receipt_no"] in desk.text()
    check_readable(desk)
    shoot(desk, office, "ka-requests")
    desk.open(hub.url + "/office/requests?lang=en")
    shoot(desk, office, "en-requests")
    desk.open(hub.url + "/office/login?lang=en")
    shoot(desk, office, "en-login")


def test_a_requests_life_from_the_list_to_ready(office: Any, desk: Phone) -> None:
    """GIVEN a signed-in clerk WHEN they open the request from the list, take it, then mark it ready
    THEN the page says each change, the kiosk's feed brings "closed", and the villager's page says it is ready;
    the clerk cannot open the fleet, the figures, the catalogue or the roles."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    hub, client, facts = office
    item = facts["item"]
    sign_in_by_keyboard(desk, hub.url, "nino", PASSWORD)
    desk.open(hub.url + "/office/requests?lang=en")
    page = desk.driver.find_element(By.TAG_NAME, "html")
    desk.driver.find_element(By.LINK_TEXT, item["receipt_no"]).click()
    WebDriverWait(desk.driver, 10).until(expected_conditions.staleness_of(page))
    assert "Card present at the kiosk" in desk.text() and "01024085083" in desk.text()
    check_readable(desk)
    shoot(desk, office, "en-request")
    submit(desk, "to-in_progress")
    assert desk.driver.find_element(By.ID, "outcome").text == "Saved: In progress."
    submit(desk, "to-closed")
    assert desk.driver.find_element(By.ID, "state").text == "Ready to collect"
    desk.open(desk.driver.current_url.split("?")[0] + "?lang=ka")
    shoot(desk, office, "ka-request")
    feed = client.call("GET", "/v1/statuses?since=").json()["statuses"]
    assert [s["state"] for s in feed] == ["closed"]
    villager = requests.get(f"{hub.url}/r/{client.kiosk.kiosk_id}/{item['tracking_token']}?lang=en", timeout=10)
    assert villager.status_code == 200 and "Ready" in villager.text
    for admins_page in ("/office/fleet", "/office/catalogue", "/office/roles", "/office/figures"):
        desk.open(f"{hub.url}{admins_page}?lang=en")
        assert "Your role does not give access to this page." in desk.text(), admins_page


def test_the_fleet_shows_the_silent_kiosk_first(office: Any, desk: Phone) -> None:
    """GIVEN a technician WHEN the fleet opens THEN the kiosk never heard from is the first row, in words."""
    from selenium.webdriver.common.by import By

    hub, client, facts = office
    sign_in_by_keyboard(desk, hub.url, "giorgi", PASSWORD)
    assert desk.driver.current_url.endswith("/office/fleet")
    rows = desk.driver.find_elements(By.CSS_SELECTOR, "table.fleet tbody tr")
    assert [r.get_attribute("id") for r in rows] == [f"kiosk-{facts['silent']}", f"kiosk-{client.kiosk.kiosk_id}"]
    assert "არასოდეს დაუკავშირდა" in rows[0].text
    check_readable(desk)
    shoot(desk, office, "ka-fleet")
    desk.open(hub.url + "/office/fleet?lang=en")
    assert "Never heard from" in desk.text()
    shoot(desk, office, "en-fleet")


def test_the_admins_pages_read_well_in_both_languages(office: Any, desk: Phone) -> None:
    """GIVEN an administrator (who may open every page) WHEN the figures, a kiosk's page, the catalogue and the
    roles open THEN each is labelled and readable (7:1), draws its charts, and is photographed."""
    hub, client, _facts = office
    sign_in_by_keyboard(desk, hub.url, "tamar", PASSWORD)
    for path, name, needle in (("/office/figures", "figures", "<svg"),
                               (f"/office/fleet/{client.kiosk.kiosk_id}", "kiosk", "<svg"),
                               ("/office/catalogue", "catalogue", 'type="file"'),
                               ("/office/roles", "roles", 'name="personal_number"')):
        for lang in ("ka", "en"):
            desk.open(f"{hub.url}{path}?lang={lang}")
            assert needle in desk.driver.page_source, (path, lang)
            check_readable(desk)
            shoot(desk, office, f"{lang}-{name}")
