"""The impairment proxy itself: what the fault tests rely on it to do."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
import requests

from tests.fixtures.impair_proxy import Impairment, ImpairmentProxy

BODY = b"x" * 5000


class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:
            pass  # the proxy reset us on purpose


@pytest.fixture()
def proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with ImpairmentProxy(("127.0.0.1", server.server_port)) as p:
        yield p
    server.shutdown()


def test_slow_link_takes_its_time_and_counts_bytes(proxy: ImpairmentProxy) -> None:
    """GIVEN 250 ms one way and 150 kbit/s WHEN 1 KB goes up and 5 KB comes back
    THEN it takes at least the two latencies plus the serialisation time, and the bytes are counted."""
    proxy.impair(Impairment(latency_s=0.25, bandwidth_bps=150_000))
    started = time.monotonic()
    reply = requests.post(proxy.url, data=b"y" * 1000, timeout=10)
    elapsed = time.monotonic() - started
    assert reply.content == BODY
    assert elapsed >= 0.5 + 6000 * 8 / 150_000
    assert proxy.bytes_up >= 1000 and proxy.bytes_down >= 5000


@pytest.mark.parametrize(
    ("impairment", "error"),
    [
        (Impairment(reset_request_after=100), requests.ConnectionError),
        (Impairment(reset_response_after=200), requests.exceptions.ChunkedEncodingError),
        (Impairment(truncate_response_after=300), requests.exceptions.ChunkedEncodingError),
        (Impairment(stall_s=1.5), requests.exceptions.ReadTimeout),
    ],
)
def test_faults_reach_the_client(proxy: ImpairmentProxy, impairment: Impairment, error: type) -> None:
    """GIVEN a fault WHEN a request crosses the proxy THEN the client sees that fault, not a reply."""
    proxy.impair(impairment)
    with pytest.raises(error):
        requests.post(proxy.url, data=b"y" * 1000, timeout=0.7)


def test_faults_heal_after_the_counted_connections(proxy: ImpairmentProxy) -> None:
    """GIVEN resets for one connection WHEN two requests follow THEN the first fails, the second passes."""
    proxy.impair(Impairment(reset_request_after=10, faulty_connections=1))
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url, data=b"y" * 100, timeout=2)
    assert requests.post(proxy.url, data=b"y" * 100, timeout=2).content == BODY
