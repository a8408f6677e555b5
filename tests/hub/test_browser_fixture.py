"""The headless phone (tests/fixtures/browser.py) loads real pages from loopback, measures them, and cleans up."""

from __future__ import annotations

import random
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.browser import TWO_G, Phone, contrast_ratio

GEORGIAN = "საქართველოს თემის ცენტრები"
ARMENIAN = "Բարի գալուստ"


def _noise_png(size: int = 100) -> bytes:
    """A real PNG of grey noise (incompressible, so about size² bytes: 10 KB for 100×100)."""
    image = Image.frombytes("L", (size, size), random.Random(7).randbytes(size * size))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


IMAGE = _noise_png()
PAGE = f"""<!doctype html>
<html lang="ka"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{GEORGIAN}</title>
<style>body {{ font: 20px/1.4 sans-serif; margin: 16px; }} .notice {{ color: #595959; background: #ffffff; }}</style></head>
<body><h1>{GEORGIAN}</h1><p lang="hy">{ARMENIAN}</p><p class="notice">ღია ორშაბათიდან პარასკევამდე</p>
<img src="/noise.png" width="100" height="100" alt="">
<p id="js">სკრიპტი არ გაეშვა</p>
<script>document.getElementById("js").textContent = "JS RAN";</script>
</body></html>""".encode()
NOT_FOUND = '<!doctype html><meta charset="utf-8"><title>404</title><p>გვერდი ვერ მოიძებნა</p>'.encode()


@dataclass
class Site:
    """A tiny site on 127.0.0.1 and the request headers it has seen."""

    url: str
    seen: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        self.site.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        if self.path == "/":
            self._send(200, "text/html; charset=utf-8", PAGE, ("Set-Cookie", "visited=yes; Path=/"))
        elif self.path == "/noise.png":
            self._send(200, "image/png", IMAGE)
        else:
            self._send(404, "text/html; charset=utf-8", NOT_FOUND)

    def _send(self, status: int, content_type: str, body: bytes, *headers: tuple[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The page, its image and a 404, served by http.server in a thread on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    served = Site(f"http://127.0.0.1:{server.server_address[1]}")
    _Handler.site = served
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join(5)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it does not)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_a_page_load_reports_status_bytes_and_text(phone: Phone, site: Site) -> None:  # noqa: F811
    """GIVEN a Georgian page with a 10 KB image WHEN the phone opens it THEN status 200, bytes ≈ page + image, text in Georgian."""
    load = phone.open(site.url + "/")
    assert load.status == 200
    assert [url.removeprefix(site.url) for url, _ in load.resources] == ["/", "/noise.png"]
    bodies = len(PAGE) + len(IMAGE)
    assert bodies <= load.bytes_on_wire <= bodies + 1500, load.resources  # plus the response headers
    assert load.bytes_of("/noise.png") >= len(IMAGE)
    assert 0 < load.load_ms < 5000
    text = phone.text()
    assert GEORGIAN in text and ARMENIAN in text


def test_the_screenshot_is_a_phone_wide_png(phone: Phone, site: Site, tmp_path: Path) -> None:  # noqa: F811
    """GIVEN the page WHEN screenshotted THEN a PNG 720 device px wide (360 CSS px at ratio 2): 1480 high for the viewport."""
    phone.open(site.url + "/")
    width, height = png_size(phone.screenshot(tmp_path / "full.png"))
    assert width == 720 and height >= 1480
    assert png_size(phone.screenshot(tmp_path / "viewport.png", full_page=False)) == (720, 1480)
    assert phone.driver.execute_script("return [innerWidth, innerHeight]") == [360, 740]  # the capture changed nothing


def test_with_javascript_off_a_script_does_not_run(phone: Phone, phone_factory, site: Site) -> None:  # noqa: F811
    """GIVEN a page whose script rewrites a paragraph WHEN JavaScript is off THEN the paragraph keeps its text (and with it on, not)."""
    phone.open(site.url + "/")
    assert "JS RAN" in phone.text()
    no_js = phone_factory(javascript_enabled=False)
    load = no_js.open(site.url + "/")
    assert load.status == 200
    assert "სკრიპტი არ გაეშვა" in no_js.text() and "JS RAN" not in no_js.text()


def test_a_2g_network_makes_the_load_slower(phone: Phone, site: Site) -> None:  # noqa: F811
    """GIVEN the page WHEN throttled to 2G (250 kbit/s, 300 ms) THEN it loads far slower, with the same bytes."""
    fast = phone.open(site.url + "/")
    phone.throttle(**TWO_G)
    slow = phone.open(site.url + "/")
    # two round trips of 300 ms and 14 KB at 250 kbit/s (~0.45 s) at the least
    assert slow.load_ms >= fast.load_ms + 700, (fast.load_ms, slow.load_ms)
    assert slow.bytes_on_wire == pytest.approx(fast.bytes_on_wire, abs=100)
    phone.unthrottle()
    assert phone.open(site.url + "/").load_ms < slow.load_ms


def test_contrast_ratio_follows_wcag() -> None:
    """GIVEN colours as getComputedStyle gives them WHEN compared THEN WCAG 2.x ratios (black on white is 21)."""
    assert contrast_ratio("rgb(0,0,0)", "rgb(255,255,255)") == 21
    assert contrast_ratio("rgb(255, 255, 255)", "rgb(0, 0, 0)") == 21
    assert contrast_ratio("rgb(10, 20, 30)", "rgb(10, 20, 30)") == 1
    assert contrast_ratio("#767676", "#fff") == pytest.approx(4.54, abs=0.01)  # the lightest grey passing AA on white
    half_black = contrast_ratio("rgb(127.5 127.5 127.5)", "#ffffff")  # space syntax, as CSS Color 4 writes it
    assert contrast_ratio("rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)") == pytest.approx(half_black)  # laid over its background
    with pytest.raises(ValueError):
        contrast_ratio("oklch(0.5 0.1 200)", "rgb(0, 0, 0)")


def test_computed_styles_feed_the_contrast_check(phone: Phone, site: Site) -> None:  # noqa: F811
    """GIVEN a grey notice on white WHEN its computed colours are read THEN rgb() values whose contrast passes AA (7:1)."""
    phone.open(site.url + "/")
    styles = phone.element_styles(".notice", "color", "background-color", "font-size")
    assert styles == {"color": "rgb(89, 89, 89)", "background-color": "rgb(255, 255, 255)", "font-size": "20px"}
    assert contrast_ratio(styles["color"], phone.effective_background(".notice")) == pytest.approx(7.0, abs=0.01)
    assert phone.effective_background("h1") == "rgb(255, 255, 255)"  # transparent all the way up: the white canvas
    with pytest.raises(LookupError):
        phone.element_styles(".missing", "color")


def test_a_missing_page_reports_404(phone: Phone, site: Site) -> None:  # noqa: F811
    """GIVEN a path the site does not have WHEN opened THEN status 404, and the error page's text is shown."""
    load = phone.open(site.url + "/no-such-page")
    assert load.status == 404
    assert "გვერდი ვერ მოიძებნა" in phone.text()


def test_each_test_gets_a_phone_without_cookies_or_throttling(phone: Phone, site: Site) -> None:  # noqa: F811
    """GIVEN a page that set a cookie and a throttled phone WHEN reset (as between tests) THEN no cookie is sent, full speed."""
    phone.open(site.url + "/")
    phone.open(site.url + "/again")
    assert site.seen[-1].get("cookie") == "visited=yes"
    phone.throttle(**TWO_G)
    phone.reset()
    assert phone.throttled is None
    phone.open(site.url + "/again")
    assert "cookie" not in site.seen[-1]


def test_accept_language_and_a_clean_quit(phone_factory, site: Site) -> None:  # noqa: F811
    """GIVEN a phone set to Georgian WHEN it loads and quits THEN it asked for ka, and no process or folder of it is left."""
    georgian = phone_factory(accept_language="ka,en")
    georgian.open(site.url + "/")
    assert site.seen[-2]["accept-language"].startswith("ka")  # [-1] is the /noise.png request
    assert georgian.driver.execute_script("return navigator.languages") == ["ka", "en"]
    driver_pid, folder = georgian.driver_pid, georgian.folder
    assert driver_pid is not None and folder is not None
    seen = georgian.processes()
    assert driver_pid in seen and len(seen) >= 3  # ChromeDriver, Chromium and its helpers
    georgian.quit()
    assert georgian.processes() == set()
    assert not folder.exists()
    children = subprocess.run(["pgrep", "-P", str(driver_pid)], capture_output=True, text=True, check=False).stdout.split()
    naming = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True, check=False).stdout.split()
    assert children == [] and naming == []
    assert [pid for pid in seen if alive(pid)] == []
