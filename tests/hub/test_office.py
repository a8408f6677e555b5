"""The back office over HTTP (a browser drives it in test_office_browser.py): logins and their refusals,
roles, CSRF, the security headers, a request's life with two clerks at once, and the audit.

Every test runs on SQLite and on PostgreSQL (the ``engine`` parameter of ``tests/hub/conftest.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.office import audit
from hub.office.accounts import Accounts, Role
from tests.fixtures.clock import real_now
from tests.fixtures.hub_server import REPO, RunningHub
from tests.fixtures.office_desk import PASSWORD, Desk
from tests.fixtures.presence import request_item
from tests.hub.conftest import SignedClient


@pytest.fixture
def accounts(hub_server: RunningHub) -> Accounts:
    """The hub's office accounts: a clerk, a technician, an admin."""
    made = Accounts(hub_server.store, hub_server.keys)
    made.add("nino", Role.CLERK, PASSWORD)
    made.add("levan", Role.CLERK, PASSWORD)
    made.add("giorgi", Role.TECHNICIAN, PASSWORD)
    return made


@pytest.fixture
def desk(hub_server: RunningHub, accounts: Accounts) -> Iterator[Desk]:
    """A browser-like client, not signed in."""
    made = Desk(hub_server)
    yield made
    made.http.close()


def audit_actions(hub: RunningHub) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in hub.query("SELECT username, action FROM office_audit ORDER BY id")]


def test_a_wrong_password_is_refused_in_words_and_locks_after_five(desk: Desk, hub_server: RunningHub) -> None:
    """GIVEN a clerk WHEN the password is wrong THEN the login page says so (not whether the name exists), and
    after five wrong ones in a row even the right password waits, with the minutes said; each try is audited."""
    refused = desk.login("nino", "not the password")
    assert (refused.status_code, refused.headers["location"]) == (303, "/office/login?problem=wrong&minutes=0")
    assert "არასწორია" in desk.get(refused.headers["location"]).text  # Georgian first
    assert desk.login("nobody", "not the password").headers["location"] == refused.headers["location"]
    for _ in range(4):
        desk.login("nino", "not the password")
    locked = desk.login("nino", PASSWORD)
    assert locked.headers["location"] == "/office/login?problem=locked&minutes=1"
    assert "1" in desk.get(locked.headers["location"] + "&lang=en").text.split("try again in")[1][:4]
    assert audit_actions(hub_server).count(("nino", "login_refused")) == 6


def test_a_login_form_without_its_csrf_token_is_refused(desk: Desk) -> None:
    """GIVEN a login form posted without the token the login page set WHEN sent THEN 403, nobody signed in."""
    answer = desk.post("/office/login", {"username": "nino", "password": PASSWORD}, with_csrf=False)
    assert answer.status_code == 403 and "office_session" not in answer.headers.get("set-cookie", "")


def test_a_second_factor_is_asked_when_enrolled(hub_server: RunningHub, desk: Desk, accounts: Accounts) -> None:
    """GIVEN an admin enrolled with TOTP WHEN the password alone is given THEN the code is asked;
    a wrong code is refused; the right one signs in."""
    uri = accounts.add("tamar", Role.ADMIN, PASSWORD, totp=True)
    assert uri is not None and uri.startswith("otpauth://totp/") and "tamar" in uri
    assert desk.login("tamar").headers["location"].startswith("/office/login?problem=code_needed")
    assert desk.login("tamar", totp="000000").headers["location"].startswith("/office/login?problem=wrong")
    assert desk.login("tamar", totp=accounts.totp_now("tamar")).headers["location"] == "/office/"


def test_pages_need_a_session_the_right_role_and_carry_security_headers(desk: Desk, hub_server: RunningHub) -> None:
    """GIVEN no session WHEN a page is asked THEN the login page; GIVEN a clerk WHEN the fleet is asked THEN 403
    in words and audited; every page forbids scripts and framing, and the session cookie is HttpOnly, SameSite."""
    assert desk.get("/office/requests").url.endswith("/office/login")
    signed_in = desk.login("nino")
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/office" in cookie
    fleet = desk.get("/office/fleet")
    assert fleet.status_code == 403 and "როლი" in fleet.text
    assert ("nino", "refused") in audit_actions(hub_server)
    page = desk.get("/office/requests")
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and "style=" not in page.text


def test_a_requests_life_two_clerks_and_the_kiosks_feed(hub_server: RunningHub, client: SignedClient,
                                                        accounts: Accounts) -> None:
    """GIVEN a request at the hub, two clerks with its page open
    WHEN the first takes it (in progress) and the second, from the page as it was, marks it ready
    THEN the second is told someone changed it meanwhile and nothing of theirs is kept; a rejection needs a
    reason, which is stored in the villager's language; the kiosk's statuses feed brings each change once."""
    item = request_item(hub_server.seal_public_key, personal_number="01024085083", submitted_at=real_now(),
                        token=None, language="ru")
    assert client.submit([item]).json()["results"][0]["result"] == "accepted"
    page = f"/office/requests/{client.kiosk.kiosk_id}/{item['id']}"
    first, second = Desk(hub_server), Desk(hub_server)
    first.login("nino")
    second.login("levan")
    listed = first.get("/office/requests?state=received&lang=en")
    assert item["receipt_no"] in listed.text
    opened = first.get(page + "?lang=en")
    assert "ნინო ბერიძე" in opened.text and "01024085083" in opened.text and "+995555123456" in opened.text
    assert re.search(r'id="presence">\s*none', opened.text)
    second.get(page)
    assert first.post(page, {"state": "in_progress", "seen": ""}).headers["location"] == page + "?done=in_progress"
    stale = second.post(page, {"state": "closed", "seen": ""})
    assert stale.headers["location"] == page + "?conflict=in_progress"
    assert "changed this request meanwhile" in second.get(stale.headers["location"] + "&lang=en").text
    assert second.post(page, {"state": "rejected", "seen": "1"}).headers["location"].endswith("need_reason=1")
    current = second.get(page)
    seq = re.search(r'name="seen" value="(\d+)"', current.text)
    assert seq is not None
    done = second.post(page, {"state": "rejected", "seen": seq.group(1), "reason": "missing_document"})
    assert done.headers["location"] == page + "?done=rejected"
    states = [(s["state"], s["reason"]) for s in client.call("GET", "/v1/statuses?since=").json()["statuses"]]
    assert states == [("rejected", "не хватает нужного документа")]
    actions = audit_actions(hub_server)
    assert ("nino", "state:in_progress") in actions and ("levan", "state:rejected") in actions
    assert ("levan", "state:closed") not in actions


def test_a_change_without_the_forms_token_changes_nothing(hub_server: RunningHub, client: SignedClient,
                                                          desk: Desk) -> None:
    """GIVEN a signed-in clerk WHEN a state change arrives without the session's CSRF token (another site's
    form) THEN 403 and the request keeps its state."""
    item = request_item(hub_server.seal_public_key, personal_number="01024085083", submitted_at=real_now(), token=None)
    client.submit([item])
    desk.login("nino")
    page = f"/office/requests/{client.kiosk.kiosk_id}/{item['id']}"
    desk.get(page)
    forged = desk.post(page, {"state": "closed", "seen": "", "csrf": "guessed"}, with_csrf=False)
    assert forged.status_code == 403
    assert hub_server.query("SELECT state FROM submissions") == [("received",)]


def test_the_audit_is_a_chain_the_database_will_not_rewrite(hub_server: RunningHub, desk: Desk) -> None:
    """GIVEN actions in the office WHEN the audit is checked THEN its chain is whole; an UPDATE or a DELETE of an
    entry is refused by the database itself."""
    desk.login("nino")
    desk.login("nino", "wrong password!")
    with hub_server.store.read() as db:
        assert audit.verify(db) is None
    for statement in ("UPDATE office_audit SET username = 'x'", "DELETE FROM office_audit"):
        with pytest.raises(DBAPIError, match="append-only"), hub_server.store.write() as db:
            db.execute(text(statement))
    assert len(audit_actions(hub_server)) == 2


def test_office_user_from_the_command_line(hub_server: RunningHub, accounts: Accounts) -> None:
    """GIVEN ``kiosk hub office-user add`` with the password on standard input WHEN the new clerk signs in
    THEN it works; ``disable`` ends the session at once; ``reset`` lets them in again with the new password."""
    def hub_cli(*argv: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "entrypoints", "hub", *argv, *hub_server.cli_args()],
                              input=password + "\n", capture_output=True, text=True, cwd=REPO, timeout=60)

    made = hub_cli("office-user", "add", "eka", "--role", "clerk", password=PASSWORD)
    assert made.returncode == 0, made.stderr
    short = hub_cli("office-user", "add", "dato", "--role", "clerk", password="short")
    assert short.returncode == 1 and "at least 10" in short.stderr
    desk = Desk(hub_server)
    assert desk.login("eka").headers["location"] == "/office/"
    assert desk.get("/office/requests").status_code == 200
    assert hub_cli("office-user", "disable", "eka").returncode == 0
    assert desk.get("/office/requests").url.endswith("/office/login")
    assert desk.login("eka").headers["location"].startswith("/office/login?problem=disabled")
    assert hub_cli("office-user", "reset", "eka", password="another long one").returncode == 0
    assert desk.login("eka", "another long one").headers["location"] == "/office/"


def test_fleet_puts_silent_and_unhealthy_kiosks_first(hub_server: RunningHub, desk: Desk, client: SignedClient) -> None:
    """GIVEN a kiosk that beats with a healthy printer, one out of paper, and one never heard from
    WHEN a technician opens the fleet THEN the silent one is first, the one out of paper next, the healthy last."""
    import json

    healthy = client
    paperless = hub_server.enroll_kiosk("Kazbegi")
    silent = hub_server.enroll_kiosk("Mestia")
    beat: dict[str, Any] = {"version": "1.0", "queue": {"queued": 0}, "printer": "ready", "reader": "1 reader(s)"}
    assert healthy.call("POST", "/v1/heartbeat", json.dumps(beat).encode()).status_code == 200
    out = json.dumps({**beat, "printer": "paper_out"}).encode()
    assert requests.post(hub_server.url + "/v1/heartbeat", data=out, timeout=10, headers={
        **paperless.sign("POST", "/v1/heartbeat", out), "Content-Type": "application/json"}).status_code == 200
    desk.login("giorgi")
    page = desk.get("/office/fleet?lang=en").text
    order = [page.index(f'id="kiosk-{k}"') for k in (silent.kiosk_id, paperless.kiosk_id, healthy.kiosk.kiosk_id)]
    assert order == sorted(order)
    assert "Never heard from" in page and "Printer out of paper" in page and "Healthy" in page


def test_figures_count_real_requests_and_export_them(hub_server: RunningHub, client: SignedClient, desk: Desk,
                                                     accounts: Accounts) -> None:
    """GIVEN three requests (one closed, one rejected) and a synthetic one, and a kiosk's ratings
    WHEN a supervisor opens the figures THEN the counts leave the synthetic one out, charts are drawn, and the
    CSV holds the same figures; a clerk is kept out."""
    import json

    from hub import backoffice
    from hub.models import HubState

    accounts.add("maka", Role.SUPERVISOR, PASSWORD)
    items = [request_item(hub_server.seal_public_key, personal_number="01024085083", submitted_at=real_now(),
                          token=None) for _ in range(3)]
    test_one = request_item(hub_server.seal_public_key, personal_number="01024085083", submitted_at=real_now(),
                            token=None, synthetic=True)
    client.submit([*items, test_one])
    backoffice.set_status(hub_server.store, items[0]["id"], HubState.CLOSED)
    backoffice.set_status(hub_server.store, items[1]["id"], HubState.REJECTED, "fee not paid")
    beat = {"version": "1", "queue": {}, "ratings": {"5": 7, "2": 1}}
    client.call("POST", "/v1/heartbeat", json.dumps(beat).encode())
    desk.login("nino")
    assert desk.get("/office/figures").status_code == 403
    desk.login("maka")
    page = desk.get("/office/figures?lang=en")
    assert page.status_code == 200 and page.text.count("<svg") >= 5 and "Requests per centre" in page.text
    rows = desk.get("/office/figures.csv").text.splitlines()
    assert rows[0] == "figure,label,value"
    assert "by_centre,Sno,3" in rows and "by_service,residence_certificate,3" in rows
    assert "rejections,fee not paid,1" in rows and "ratings,5 ★,7" in rows and "ratings,2 ★,1" in rows
    assert any(r.startswith("hours_to_close,residence_certificate,") for r in rows)


def test_a_technician_makes_an_enrolment_code_and_revokes_a_kiosk(hub_server: RunningHub, client: SignedClient,
                                                                  desk: Desk) -> None:
    """GIVEN a technician on the fleet WHEN they make an enrolment code THEN a new kiosk enrols with it once;
    WHEN they revoke a kiosk (confirming) THEN its next call is refused 401; without the confirmation nothing."""
    import json

    desk.login("giorgi")
    desk.get("/office/fleet?lang=en")
    made = desk.post("/office/fleet-code", {})
    code = re.search(r"Code: ([A-Z0-9-]+)", made.text) or re.search(r"კოდი: ([A-Z0-9-]+)", made.text)
    assert made.status_code == 200 and code is not None
    import base64

    from nacl.signing import SigningKey
    key = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    enrolled = requests.post(hub_server.url + "/v1/enroll", json={"code": code.group(1), "device_public_key": key,
                                                                  "name": "new"}, timeout=10)
    assert enrolled.status_code == 201
    page = desk.get(f"/office/fleet/{client.kiosk.kiosk_id}?lang=en")
    assert page.status_code == 200 and "Queue over the last 48 hours" in page.text
    desk.post(f"/office/fleet/{client.kiosk.kiosk_id}/revoke", {})
    assert client.call("POST", "/v1/heartbeat", json.dumps({"version": "1"}).encode()).status_code == 200
    desk.get(f"/office/fleet/{client.kiosk.kiosk_id}")
    done = desk.post(f"/office/fleet/{client.kiosk.kiosk_id}/revoke", {"confirm": "yes"})
    assert done.headers["location"].endswith("?revoked=1")
    assert client.call("POST", "/v1/heartbeat", json.dumps({"version": "1"}).encode()).status_code == 401
    assert ("giorgi", "kiosk:revoke") in audit_actions(hub_server)


def test_an_admin_checks_compares_and_publishes_a_catalogue(hub_server: RunningHub, client: SignedClient,
                                                            desk: Desk, accounts: Accounts) -> None:
    """GIVEN an admin WHEN they upload a broken catalogue THEN it is refused in words and nothing changes;
    WHEN they upload one with a fee changed THEN the page names that service as changed, and once published
    the kiosks' /v1/catalogue serves exactly those bytes; a clerk cannot reach the page."""
    import json

    from assets import ASSETS_DIR

    accounts.add("tamar", Role.ADMIN, PASSWORD)
    desk.login("nino")
    assert desk.get("/office/catalogue").status_code == 403
    desk.login("tamar")
    desk.get("/office/catalogue?lang=en")

    def upload(body: bytes) -> requests.Response:
        answer = desk.http.post(hub_server.url + "/office/catalogue", data={"csrf": desk.csrf()}, timeout=10,
                                files={"catalogue": ("catalogue.json", body, "application/json")})
        desk.last = answer.text
        return answer

    assert "This catalogue cannot be used" in upload(b'{"services": "none"}').text
    shipped = json.loads((ASSETS_DIR / "catalogue" / "catalogue.json").read_bytes())
    shipped["services"][0]["fee_tetri"] = 1234
    body = json.dumps(shipped, ensure_ascii=False).encode()
    checked = upload(body)
    changed = re.search(r'id="changed">([^<]+)', checked.text)
    assert changed is not None and changed.group(1) == shipped["services"][0]["id"]
    etag = re.search(r'name="etag" value="([^"]+)"', checked.text)
    assert etag is not None
    import html

    draft = html.unescape(etag.group(1))  # as a browser sends the attribute's value
    done = desk.post("/office/catalogue/publish", {"etag": draft})
    assert done.headers["location"] == "/office/catalogue?published=1"
    assert client.call("GET", "/v1/catalogue").content == body
    assert desk.post("/office/catalogue/publish", {"etag": draft}).headers["location"].endswith("stale=1")


def test_an_admin_gives_and_takes_kiosk_roles(hub_server: RunningHub, desk: Desk, accounts: Accounts) -> None:
    """GIVEN an admin WHEN they add a technician by personal number THEN the hub's role list has them; a number
    that is not 11 digits is refused in words; removing takes the role away."""
    from hub import documents

    accounts.add("tamar", Role.ADMIN, PASSWORD)
    desk.login("tamar")
    desk.get("/office/roles")
    added = desk.post("/office/roles", {"action": "add", "personal_number": "01024085083", "role": "technician",
                                        "name": "Levan"})
    assert added.headers["location"] == "/office/roles?done=added"
    assert documents.roles(hub_server.store) == [{"personal_number": "01024085083", "role": "technician",
                                                  "name": "Levan"}]
    desk.get("/office/roles")
    bad = desk.post("/office/roles", {"action": "add", "personal_number": "123", "role": "staff", "name": ""})
    assert "11 ციფრია" in desk.get(bad.headers["location"]).text
    desk.post("/office/roles", {"action": "remove", "personal_number": "01024085083", "role": "technician"})
    assert documents.roles(hub_server.store) == []
    assert ("tamar", "role:add") in audit_actions(hub_server) and ("tamar", "role:remove") in audit_actions(hub_server)


def test_a_service_may_list_its_own_reasons_for_rejecting(hub_server: RunningHub, client: SignedClient,
                                                          desk: Desk) -> None:
    """GIVEN a published catalogue whose residence certificate lists its own reasons (five languages), which
    kiosks still read WHEN a clerk rejects such a request THEN the page offers those reasons, and the one chosen
    reaches the kiosk in the villager's language (Armenian here)."""
    import json

    from assets import ASSETS_DIR
    from hub import documents
    from protocol.catalogue import parse_catalogue

    shipped = json.loads((ASSETS_DIR / "catalogue" / "catalogue.json").read_bytes())
    service = next(s for s in shipped["services"] if s["id"] == "residence_certificate")
    service["rejection_reasons"] = [{"id": "not_registered", "label": {
        "ka": "მისამართზე არ ხართ რეგისტრირებული", "en": "you are not registered at this address",
        "ru": "вы не зарегистрированы по этому адресу", "az": "bu ünvanda qeydiyyatda deyilsiniz",
        "hy": "դուք գրանցված չեք այս հասցեում"}}]
    body = json.dumps(shipped, ensure_ascii=False).encode()
    parse_catalogue(json.loads(body))  # the kiosks' own reading
    documents.publish_catalogue(hub_server.store, hub_server.keys, body)
    item = request_item(hub_server.seal_public_key, personal_number="01024085083", submitted_at=real_now(),
                        token=None, language="hy")
    client.submit([item])
    desk.login("nino")
    page = f"/office/requests/{client.kiosk.kiosk_id}/{item['id']}"
    opened = desk.get(page + "?lang=en")
    assert "you are not registered at this address" in opened.text and "fee has not been paid" not in opened.text
    assert desk.post(page, {"state": "rejected", "seen": "", "reason": "fee_unpaid"}).headers["location"].endswith(
        "need_reason=1")
    desk.get(page)
    desk.post(page, {"state": "rejected", "seen": "", "reason": "not_registered"})
    [status] = client.call("GET", "/v1/statuses?since=").json()["statuses"]
    assert (status["state"], status["reason"]) == ("rejected", "դուք գրանցված չեք այս հասցեում")
