"""Start-up to the attract screen and resident memory of the demo kiosk, offscreen.

Prints JSON. Each sample is a fresh process (a cold start as far as Python is concerned):
``kiosk`` = our app from process start to the first drawn frame of the attract screen;
``bare_kivy`` = a Kivy app with one Label, measured the same way in the same run, so the
figure is also a ratio over what Kivy itself costs. Medians of several runs.

    python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

KIOSK = r"""
import time, resource, sys, json
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from pathlib import Path
from kiosk.config import load_settings
from kiosk.bootstrap import build_services
from screens.runner import prepare_kivy
settings = load_settings(None, env={{}}).simulated(Path({data!r}))
services = build_services(settings)
prepare_kivy(kivy_home=Path({data!r}) / "kivy", headless=True, size=(1280, 800), fullscreen=False)
from kivy.clock import Clock
from screens.app import KioskApp
def started(app):
    def first_frame(_dt):
        assert app.current_screen == "attract"
        out = {{"seconds": time.perf_counter() - t0,
               "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}
        print("RESULT " + json.dumps(out), flush=True)
        app.stop()
    Clock.schedule_once(first_frame, 0)
KioskApp(services, on_started=started).run()
services.close()
"""

BARE = r"""
import time, resource, json, os
t0 = time.perf_counter()
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "1280"); Config.set("graphics", "height", "800")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label
class Bare(App):
    def build(self):
        return Label(text="Hello")
    def on_start(self):
        def first_frame(_dt):
            out = {"seconds": time.perf_counter() - t0,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
            print("RESULT " + json.dumps(out), flush=True)
            self.stop()
        Clock.schedule_once(first_frame, 0)
Bare().run()
"""


def sample(code: str, home: str) -> dict[str, float]:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": home, "KIVY_NO_CONSOLELOG": "1",
           "KIVY_NO_ARGS": "1"}
    script = Path(home) / "sample.py"  # Kivy's App wants a source file, not -c
    script.write_text(code)
    start_wall = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    wall = time.perf_counter() - start_wall
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(proc.stdout + proc.stderr)
    result = json.loads(line[7:])
    result["process_seconds"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data")
        sample(KIOSK.format(repo=str(REPO), data=data), tmp)  # warm-up: makes the demo PKI once
        kiosk = [sample(KIOSK.format(repo=str(REPO), data=data), tmp) for _ in range(args.runs)]
        bare = [sample(BARE, tmp) for _ in range(args.runs)]

    def med(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    report = {
        "runs": args.runs,
        "kiosk": {"start_to_attract_s": med(kiosk, "seconds"), "rss_mb": med(kiosk, "rss_mb")},
        "bare_kivy": {"start_to_first_frame_s": med(bare, "seconds"), "rss_mb": med(bare, "rss_mb")},
    }
    report["ratio_start"] = round(report["kiosk"]["start_to_attract_s"] / report["bare_kivy"]["start_to_first_frame_s"], 2)
    report["goals"] = {"start_to_attract_s<=1.5": report["kiosk"]["start_to_attract_s"] <= 1.5,
                       "rss_mb<=150": report["kiosk"]["rss_mb"] <= 150}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
