""""My requests" through its injected sources: the outbox, and a hub that answers or does not."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import requests

from kiosk.my_requests import HubUnreachable, MyRequests, RequestSummary, Source, outbox_source
from offline.outbox import Outbox
from protocol.sealing import citizen_key

SECRET = b"k" * 32
NUMBER = "01024085083"
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def outbox(tmp_path) -> Outbox:
    box = Outbox(tmp_path / "outbox.sqlite", "KSK-0001", lambda: T0)
    yield box
    box.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_lists_this_kiosks_requests_newest_first(outbox: Outbox) -> None:
    """GIVEN two requests of this citizen, one of another, one synthetic WHEN looked up with no hub
    THEN this citizen's two real ones are listed, from the kiosk."""
    key = citizen_key(SECRET, NUMBER)
    first = outbox.enqueue(service="residence_certificate", sealed=b"a", citizen_key=key)
    outbox.enqueue(service="residence_certificate", sealed=b"b", citizen_key=citizen_key(SECRET, "01001012345"))
    outbox.enqueue(service="psh_appointment", sealed=b"c", citizen_key=key, synthetic=True)
    second = outbox.enqueue(service="municipality_letter", sealed=b"d", citizen_key=key)
    result = MyRequests(secret=SECRET, local=outbox_source(outbox)).lookup(NUMBER)
    assert result.source is Source.KIOSK
    assert {r.receipt_no for r in result.requests} == {first.receipt_no, second.receipt_no}
    assert all(r.state == "queued" and r.state_key == "requests.state.queued" for r in result.requests)


def test_hub_answer_is_merged_with_unsent_requests(outbox: Outbox) -> None:
    """GIVEN the hub knows an older request and this kiosk holds a newer unsent one WHEN looked up
    THEN both are listed, newest first, said to come from the hub."""
    key = citizen_key(SECRET, NUMBER)
    queued = outbox.enqueue(service="residence_certificate", sealed=b"a", citizen_key=key)
    asked: list[str] = []

    def hub(k: str) -> list[RequestSummary]:
        asked.append(k)
        return [RequestSummary("KSK-0002-261101-0001", "birth_record_extract", T0 - dt.timedelta(days=19), "in_progress")]

    result = MyRequests(secret=SECRET, local=outbox_source(outbox), remote=hub).lookup(NUMBER)
    assert asked == [key]  # the hub is asked by the keyed hash, never by the number
    assert result.source is Source.HUB
    assert [r.receipt_no for r in result.requests] == [queued.receipt_no, "KSK-0002-261101-0001"]
    assert result.requests[1].state_key == "requests.state.in_progress"


def test_hub_down_falls_back_to_the_kiosk(outbox: Outbox) -> None:
    """GIVEN a hub URL nobody listens on (a real refused connection) WHEN looked up THEN the kiosk's list is shown."""
    url = f"http://127.0.0.1:{_closed_port()}/v1/requests"
    key = citizen_key(SECRET, NUMBER)
    outbox.enqueue(service="residence_certificate", sealed=b"a", citizen_key=key)

    def hub(k: str) -> list[RequestSummary]:
        requests.get(url, params={"citizen_key": k}, timeout=2).raise_for_status()
        raise AssertionError("unreachable")

    result = MyRequests(secret=SECRET, local=outbox_source(outbox), remote=hub).lookup(NUMBER)
    assert result.source is Source.KIOSK and len(result.requests) == 1


def test_hub_unreachable_error_also_falls_back(outbox: Outbox) -> None:
    """GIVEN a remote that says HubUnreachable WHEN looked up THEN the kiosk's (empty) list is shown."""

    def hub(_k: str) -> list[RequestSummary]:
        raise HubUnreachable()

    result = MyRequests(secret=SECRET, local=outbox_source(outbox), remote=hub).lookup(NUMBER)
    assert result == type(result)(Source.KIOSK, ())


def test_unknown_hub_state_has_words_too() -> None:
    """GIVEN a state the kiosk does not know WHEN shown THEN it has the generic key, not a crash."""
    assert RequestSummary("x", "y", T0, "archived").state_key == "requests.state.unknown"
