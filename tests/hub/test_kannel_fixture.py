"""The Kannel test gateway (tests/fixtures/kannel.py) accepts sendsms calls, delivers them whole to its fake SMS centre,
goes down and comes back on demand, and cleans up after itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.fixtures import kannel
from tests.fixtures.kannel import (
    KannelGateway,
    ReceivedSms,
    kannel_gateway,  # noqa: F401  (the pytest fixture, until tests/conftest.py imports it)
    parse_fakesmsc_log,
)

REPO = Path(__file__).resolve().parents[2]
GEORGIAN = "თქვენი მოთხოვნა მზადაა"
ENGLISH = "Your request is ready: 100% done & signed (a+b=c?)"
PHONE = "+995555123456"


def sendsms(gateway: KannelGateway, to: str, text: str, **extra: str) -> requests.Response:
    """One sendsms GET as the hub makes it: the operator's URL plus to, text, charset=UTF-8 and coding=2."""
    query = urllib.parse.urlencode({"to": to, "text": text, "charset": "UTF-8", "coding": "2", **extra})
    return requests.get(f"{gateway.sendsms_url}&{query}", timeout=10)


def processes_in(folder: Path) -> list[int]:
    """The processes whose working directory is ``folder`` (even once it is deleted): the gateway's own."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd.removesuffix(" (deleted)") == str(folder):
                found.append(int(entry))
    return found


def refuses(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_english_and_georgian_are_accepted_and_arrive_exactly(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN the gateway WHEN the hub sends an English and a Georgian text THEN both are accepted (202) and the SMS
    centre gets each exact text for the right number, from the configured sender."""
    for to, text in ((PHONE, ENGLISH), ("+995599000111", GEORGIAN)):
        answer = sendsms(kannel_gateway, to, text)
        assert answer.status_code == 202
        assert answer.text.startswith("0: Accepted")
    got = kannel_gateway.wait_for(2)
    assert got == [ReceivedSms("Kiosk", PHONE, ENGLISH), ReceivedSms("Kiosk", "+995599000111", GEORGIAN)]
    assert [sms.coding for sms in got] == ["ucs-2", "ucs-2"]


def test_a_georgian_text_of_134_characters_arrives_whole(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN a Georgian text of 134 characters WHEN it is sent THEN it travels as two concatenated UCS-2 parts and
    received() gives it back whole."""
    text = (GEORGIAN + ". ") * 6
    text = text[:134]
    assert len(text) == 134
    assert sendsms(kannel_gateway, PHONE, text).text.startswith("0: Accepted")
    (sms,) = kannel_gateway.wait_for(1)
    assert sms == ReceivedSms("Kiosk", PHONE, text)
    assert (sms.coding, sms.parts) == ("udh", 2)
    raw = kannel_gateway.log_paths["fakesmsc.log"].read_text(encoding="utf-8")
    assert raw.count(f"Kiosk {PHONE} udh %05%00%03") == 2  # fakesmsc itself saw two SMS


def test_with_smsbox_stopped_the_url_refuses_then_works_again(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN the gateway WHEN smsbox is stopped THEN the sendsms URL refuses connections; WHEN it is started again THEN
    the same URL accepts and delivers."""
    kannel_gateway.stop_smsbox()
    with pytest.raises(requests.ConnectionError):
        sendsms(kannel_gateway, PHONE, "while down")
    assert refuses(kannel_gateway.ports["sendsms"])
    kannel_gateway.start_smsbox()
    assert sendsms(kannel_gateway, PHONE, GEORGIAN).text.startswith("0: Accepted")
    assert kannel_gateway.wait_for(1) == [ReceivedSms("Kiosk", PHONE, GEORGIAN)]


def test_with_the_smsc_paused_kannel_queues_and_delivers_on_resume(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN the SMS centre away WHEN a text is sent THEN Kannel queues it (202, "3: Queued") and nothing arrives;
    WHEN the centre comes back THEN the text arrives."""
    kannel_gateway.pause_smsc()
    answer = sendsms(kannel_gateway, PHONE, GEORGIAN)
    assert answer.status_code == 202 and answer.text.startswith("3: Queued")
    time.sleep(0.5)
    assert kannel_gateway.received() == []
    kannel_gateway.resume_smsc()
    assert kannel_gateway.wait_for(1) == [ReceivedSms("Kiosk", PHONE, GEORGIAN)]


def test_clear_forgets_what_was_received(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN one received text WHEN clear() is called and another is sent THEN only the new one is listed."""
    sendsms(kannel_gateway, PHONE, "first")
    kannel_gateway.wait_for(1)
    kannel_gateway.clear()
    assert kannel_gateway.received() == []
    sendsms(kannel_gateway, PHONE, "second")
    assert kannel_gateway.wait_for(1) == [ReceivedSms("Kiosk", PHONE, "second")]


def test_without_coding_2_georgian_becomes_question_marks(kannel_gateway: KannelGateway) -> None:  # noqa: F811
    """GIVEN Georgian sent without coding=2 THEN Kannel still answers 202 but the letters arrive as '?': why the hub
    always asks for UCS-2."""
    query = urllib.parse.urlencode({"to": PHONE, "text": GEORGIAN, "charset": "UTF-8"})
    answer = requests.get(f"{kannel_gateway.sendsms_url}&{query}", timeout=10)
    assert answer.status_code == 202
    (sms,) = kannel_gateway.wait_for(1)
    assert sms.text == "?????? ???????? ??????" and sms.coding == "text"


def test_after_stop_no_process_is_left_and_the_folder_is_gone() -> None:
    """GIVEN a gateway of its own WHEN it is stopped THEN none of its processes is alive, its ports refuse and its
    folder is removed; a second stop is harmless."""
    with KannelGateway() as gateway:
        folder, pids, ports = gateway.directory, gateway.pids(), dict(gateway.ports)
        assert folder is not None and folder.is_dir()
        assert set(pids) == {"bearerbox", "fakesmsc", "smsbox"}
        assert sorted(processes_in(folder)) == sorted(pids.values())
        assert all(path.is_file() for name, path in gateway.log_paths.items() if name != "access.log")
    assert processes_in(folder) == []
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert all(refuses(port) for port in ports.values())
    assert not folder.exists()
    assert gateway.pids() == {}
    gateway.stop()


def test_a_killed_test_run_leaves_no_gateway_behind() -> None:
    """GIVEN a process that started a gateway WHEN it is SIGKILLed THEN the watchdog stops Kannel and removes its folder."""
    script = ("from tests.fixtures.kannel import KannelGateway\n"
              "import sys, time\n"
              "g = KannelGateway().start()\n"
              "print(g.directory, g.ports['sendsms'], flush=True)\n"
              "time.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    folder_text, port_text = child.stdout.readline().split()
    folder, port = Path(folder_text), int(port_text)
    assert len(processes_in(folder)) == 3 and not refuses(port)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while processes_in(folder) or folder.exists():
        assert time.monotonic() < deadline, "the gateway outlived the killed process"
        time.sleep(0.1)
    assert refuses(port)


def test_a_port_taken_meanwhile_means_new_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the admin port taken by someone else between choosing and binding it WHEN the gateway starts THEN it tries
    again on other ports and works."""
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    real, calls = kannel._free_ports, []

    def first_one_taken(count: int) -> list[int]:
        ports = real(count)
        calls.append(ports)
        return [squatter.getsockname()[1], *ports[1:]] if len(calls) == 1 else ports

    monkeypatch.setattr(kannel, "_free_ports", first_one_taken)
    try:
        with KannelGateway() as gateway:
            assert len(calls) == 2
            assert sendsms(gateway, PHONE, "after a clash").text.startswith("0: Accepted")
            assert gateway.wait_for(1)[0].text == "after a clash"
    finally:
        squatter.close()


def test_the_parser_reads_fakesmsc_output_as_logged() -> None:
    """GIVEN fakesmsc's own lines (text, 8-bit data, UCS-2, parts out of order, a 16-bit reference, an unfinished long
    message) THEN the parser gives each message's text, the long ones whole and the unfinished one not yet."""
    stamp = "2026-12-04 10:19:16 [1292] [0] DEBUG: "
    lines = [
        "Got message 1: <1515 111 text plain 7bit € [x]>",
        "Got message 2: <1515 222 data 8bit+%C3%A9+data>",
        "Got message 3: <1515 333 ucs-2 %10%D7%10%E5%00+%00H%00%2B>",
        "Got message 4: <1515 444 udh %05%00%03%07%02%02 data %00b>",
        "Got message 5: <1515 444 udh %05%00%03%07%02%01 data %10%D7%00+>",
        "Got message 6: <1515 555 udh %06%08%04%01%02%02%01 data English+long+>",
        "Got message 7: <1515 555 udh %06%08%04%01%02%02%02 data message.>",
        "Got message 8: <1515 666 udh %05%00%03%09%03%01 data %00a>",
    ]
    log = "".join(f"{stamp}{line}\n" for line in lines)
    assert parse_fakesmsc_log(log) == [
        ReceivedSms("1515", "111", "plain 7bit € [x]"),
        ReceivedSms("1515", "222", "8bit é data"),
        ReceivedSms("1515", "333", "თქ H+"),
        ReceivedSms("1515", "444", "თ b"),
        ReceivedSms("1515", "555", "English long message."),
    ]
