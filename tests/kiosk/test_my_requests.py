""""My requests" through its injected sources: the outbox, and a hub that answers or does not."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import requests

from kiosk.my_requests import HubUnreachable, MyRequests, RequestSummary, Source, outbox_source
from offline.outbox import Outbox
from protocol.presence import Challenge, PresenceToken, holder_key

KIOSK = "KSK-0001"
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
# Only the certificate's bytes matter here (the holder key); the hub verifies tokens (tests/hub/test_presence.py).
TOKEN = PresenceToken(Challenge.fresh(KIOSK, T0, "hub-nonce"), b"certificate of Nino", b"signature")
OTHER = PresenceToken(Challenge.fresh(KIOSK, T0), b"certificate of Giorgi", b"signature 2")


@pytest.fixture
def outbox(tmp_path) -> Outbox:
    box = Outbox(tmp_path / "outbox.sqlite", KIOSK, lambda: T0)
    yield box
    box.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_lists_this_kiosks_requests_newest_first(outbox: Outbox) -> None:
    """GIVEN two requests of this citizen, one of another, one synthetic WHEN looked up with no hub
    THEN this citizen's two real ones are listed, from the kiosk."""
    key = holder_key(KIOSK, TOKEN.certificate)
    first = outbox.enqueue(service="residence_certificate", sealed=b"a", holder=key)
    outbox.enqueue(service="residence_certificate", sealed=b"b", holder=holder_key(KIOSK, OTHER.certificate))
    outbox.enqueue(service="psh_appointment", sealed=b"c", holder=key, synthetic=True)
    second = outbox.enqueue(service="municipality_letter", sealed=b"d", holder=key)
    result = MyRequests(kiosk_id=KIOSK, local=outbox_source(outbox)).lookup(TOKEN)
    assert result.source is Source.KIOSK
    assert {r.receipt_no for r in result.requests} == {first.receipt_no, second.receipt_no}
    assert all(r.state == "queued" and r.state_key == "requests.state.queued" for r in result.requests)


def test_hub_answer_is_merged_with_unsent_requests(outbox: Outbox) -> None:
    """GIVEN the hub knows an older request and this kiosk holds a newer unsent one WHEN looked up
    THEN both are listed, newest first, said to come from the hub."""
    queued = outbox.enqueue(service="residence_certificate", sealed=b"a", holder=holder_key(KIOSK, TOKEN.certificate))
    asked: list[PresenceToken] = []

    def hub(token: PresenceToken) -> list[RequestSummary]:
        asked.append(token)
        return [RequestSummary("KSK-0002-261101-0001", "birth_record_extract", T0 - dt.timedelta(days=19),
                               "in_progress", "Sagarejo")]

    result = MyRequests(kiosk_id=KIOSK, local=outbox_source(outbox), remote=hub).lookup(TOKEN)
    assert asked == [TOKEN]  # the hub is shown the card's proof, never a number or a kiosk-made hash
    assert result.source is Source.HUB
    assert [r.receipt_no for r in result.requests] == [queued.receipt_no, "KSK-0002-261101-0001"]
    assert result.requests[1].state_key == "requests.state.in_progress"
    assert result.requests[1].centre == "Sagarejo"


def test_hub_down_falls_back_to_the_kiosk(outbox: Outbox) -> None:
    """GIVEN a hub URL nobody listens on (a real refused connection) WHEN looked up THEN the kiosk's list is shown."""
    url = f"http://127.0.0.1:{_closed_port()}/v1/requests"
    outbox.enqueue(service="residence_certificate", sealed=b"a", holder=holder_key(KIOSK, TOKEN.certificate))

    def hub(token: PresenceToken) -> list[RequestSummary]:
        requests.post(url, json={"presence": token.to_json()}, timeout=2).raise_for_status()
        raise AssertionError("unreachable")

    result = MyRequests(kiosk_id=KIOSK, local=outbox_source(outbox), remote=hub).lookup(TOKEN)
    assert result.source is Source.KIOSK and len(result.requests) == 1


def test_hub_unreachable_error_also_falls_back(outbox: Outbox) -> None:
    """GIVEN a remote that says HubUnreachable WHEN looked up THEN the kiosk's (empty) list is shown."""

    def hub(_token: PresenceToken) -> list[RequestSummary]:
        raise HubUnreachable()

    result = MyRequests(kiosk_id=KIOSK, local=outbox_source(outbox), remote=hub).lookup(TOKEN)
    assert result == type(result)(Source.KIOSK, ())


def test_unknown_hub_state_has_words_too() -> None:
    """GIVEN a state the kiosk does not know WHEN shown THEN it has the generic key, not a crash."""
    assert RequestSummary("x", "y", T0, "archived").state_key == "requests.state.unknown"


def test_a_login_made_offline_does_not_ask_the_hub(outbox: Outbox) -> None:
    """GIVEN a session whose login had no hub nonce (the hub was out of reach) WHEN "my requests" is asked
    THEN the hub is not asked (it answers fresh logins only) and the kiosk's list is shown."""
    offline_login = PresenceToken(Challenge.fresh(KIOSK, T0), TOKEN.certificate, b"signature")
    outbox.enqueue(service="residence_certificate", sealed=b"a", holder=holder_key(KIOSK, TOKEN.certificate))

    def hub(_token: PresenceToken) -> list[RequestSummary]:
        raise AssertionError("the hub was asked")

    result = MyRequests(kiosk_id=KIOSK, local=outbox_source(outbox), remote=hub).lookup(offline_login)
    assert result.source is Source.KIOSK and len(result.requests) == 1
