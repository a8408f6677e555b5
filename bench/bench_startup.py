"""Start-up to the attract screen and resident memory of the demo kiosk, offscreen.

Prints JSON. Each sample is a fresh process (a cold start as far as Python is concerned):
``kiosk`` = our app from process start until the first frame of the attract screen is drawn
(``on_flip`` after ``glFinish``), split into phases: our imports (settings, composition root,
Kivy runner), ``build_services`` (``core_services`` is the two together), Kivy and the screens
imported and the window made, the app built, the first frame;
``bare_kivy`` = a Kivy app with one Label, measured the same way in the same run, interleaved,
so the figure is also a ratio over what Kivy itself costs. Medians of several runs.
Memory is read at that first frame: RSS, its peak, and its private (anonymous) and file-backed
parts — on this machine half of a bare Kivy app's RSS is Mesa's software renderer.

    python bench/bench_startup.py [--runs 5]

Goals: the attract screen in <= 2x the bare Kivy app's first frame, resident memory <= 30 MB over
the bare Kivy app's (both measured in the same run); issue 6's: start-up <= 1.5 s, RSS <= 150 MB.
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
GOAL_START_S = 1.5
GOAL_RSS_MB = 150.0
GOAL_RATIO = 2.0  # our time to the attract screen over the bare Kivy app's to its first frame
GOAL_RSS_OVER_BARE_MB = 30.0

KIOSK = r"""
import time, resource, sys, json
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from pathlib import Path
from kiosk.config import load_settings
from entrypoints.bootstrap import build_services
from screens.runner import prepare_kivy
t_imports = time.perf_counter()
settings = load_settings(None, env={{}}).simulated(Path({data!r}))
services = build_services(settings)
t_services = time.perf_counter()
prepare_kivy(kivy_home=Path({data!r}) / "kivy", headless=True, size=(1280, 800), fullscreen=False)
from kivy.core.window import Window
from kivy.graphics.opengl import glFinish
from screens.app import KioskApp
t_kivy = time.perf_counter()
def started(app):
    t_started = time.perf_counter()
    def first_frame(*_args):
        if app.current_screen != "attract":
            return
        glFinish()  # software GL draws lazily: the frame is drawn when this returns
        Window.unbind(on_flip=first_frame)
        out = {{"seconds": time.perf_counter() - t0, **memory(),
               "phases": {{"imports_s": t_imports - t0, "build_services_s": t_services - t_imports,
                          "core_services_s": t_services - t0, "kivy_and_screens_import_s": t_kivy - t_services,
                          "app_build_s": t_started - t_kivy, "first_frame_s": time.perf_counter() - t_started}}}}
        print("RESULT " + json.dumps(out), flush=True)
        app.stop()
    Window.bind(on_flip=first_frame)
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
from kivy.core.window import Window
from kivy.graphics.opengl import glFinish
from kivy.uix.label import Label
t_kivy = time.perf_counter()
class Bare(App):
    def build(self):
        return Label(text="Hello")
    def on_start(self):
        t_started = time.perf_counter()
        def first_frame(*_args):
            glFinish()
            Window.unbind(on_flip=first_frame)
            out = {"seconds": time.perf_counter() - t0, **memory(),
                   "phases": {"kivy_import_and_window_s": t_kivy - t0, "app_build_s": t_started - t_kivy,
                              "first_frame_s": time.perf_counter() - t_started}}
            print("RESULT " + json.dumps(out), flush=True)
            self.stop()
        Window.bind(on_flip=first_frame)
Bare().run()
"""

# Resident memory now, its peak, and the part no other process shares (anonymous: heap, Python
# objects, textures in software GL). The rest of RSS is mostly shared libraries, over half of it
# Mesa's software renderer (libLLVM, swrast_dri): a kiosk with a GPU driver maps other libraries.
MEMORY = r"""
def memory():
    import resource
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    kb = lambda key: int(status[key].split()[0]) / 1024
    return {"rss_mb": kb("VmRSS"), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "anon_mb": kb("RssAnon"), "file_mb": kb("RssFile")}
"""


def sample(code: str, home: str, *, bytecode_cache: bool = True) -> dict[str, float]:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": home, "KIVY_NO_CONSOLELOG": "1",
           "KIVY_NO_ARGS": "1"}
    # An installed kiosk runs compiled bytecode (pip compiles it at install): by default both apps
    # keep theirs in the run's temp folder, filled by the warm-up run, whatever the shell says
    # (PYTHONDONTWRITEBYTECODE=1 would recompile our modules every start, but not Kivy's).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode_cache:
        env["PYTHONPYCACHEPREFIX"] = str(Path(home) / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    script = Path(home) / "sample.py"  # Kivy's App wants a source file, not -c
    script.write_text(MEMORY + code)  # memory() defined first (microseconds before the clock starts)
    start_wall = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    wall = time.perf_counter() - start_wall
    line = next((row for row in proc.stdout.splitlines() if row.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(proc.stdout + proc.stderr)
    result = json.loads(line[7:])
    result["process_seconds"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-bytecode-cache", dest="bytecode_cache", action="store_false",
                        help="compile our modules from source on every start (PYTHONDONTWRITEBYTECODE=1: "
                        "installed packages such as Kivy still load their own compiled bytecode)")
    args = parser.parse_args()
    kiosk, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data")
        code = KIOSK.format(repo=str(REPO), data=data)
        cache = args.bytecode_cache
        sample(code, tmp, bytecode_cache=cache)  # warm-up: makes the demo PKI once, fills the disk and bytecode caches
        sample(BARE, tmp, bytecode_cache=cache)
        for _ in range(args.runs):  # interleaved, so both see the same noise from the shared machine
            kiosk.append(sample(code, tmp, bytecode_cache=cache))
            bare.append(sample(BARE, tmp, bytecode_cache=cache))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    def memory(rows: list[dict[str, float]]) -> dict[str, float]:
        return {key: med(rows, key) for key in ("rss_mb", "peak_rss_mb", "anon_mb", "file_mb")}

    def phases(rows: list[dict]) -> dict[str, float]:
        return {key: round(statistics.median(r["phases"][key] for r in rows), 3) for key in rows[0]["phases"]}

    report = {
        "runs": args.runs,
        "bytecode_cache": args.bytecode_cache,
        "kiosk": {"start_to_attract_s": med(kiosk, "seconds"), "phases_s": phases(kiosk), **memory(kiosk),
                  "process_s": med(kiosk, "process_seconds"),
                  "start_to_attract_s_each_run": [round(r["seconds"], 3) for r in kiosk]},
        "bare_kivy": {"start_to_first_frame_s": med(bare, "seconds"), "phases_s": phases(bare), **memory(bare),
                      "process_s": med(bare, "process_seconds"),
                      "start_to_first_frame_s_each_run": [round(r["seconds"], 3) for r in bare]},
    }
    k, b = report["kiosk"], report["bare_kivy"]
    report["kiosk_over_bare"] = {"start_s": round(k["start_to_attract_s"] - b["start_to_first_frame_s"], 3),
                                 "ratio_start": round(k["start_to_attract_s"] / b["start_to_first_frame_s"], 2),
                                 "rss_mb": round(k["rss_mb"] - b["rss_mb"], 1),
                                 "anon_mb": round(k["anon_mb"] - b["anon_mb"], 1)}
    report["goals"] = {f"ratio_start<={GOAL_RATIO:g}": report["kiosk_over_bare"]["ratio_start"] <= GOAL_RATIO,
                       f"rss_over_bare_mb<={GOAL_RSS_OVER_BARE_MB:g}":
                           report["kiosk_over_bare"]["rss_mb"] <= GOAL_RSS_OVER_BARE_MB,
                       "start_to_attract_s<=1.5": k["start_to_attract_s"] <= GOAL_START_S,
                       "rss_mb<=150": k["rss_mb"] <= GOAL_RSS_MB,
                       "bare_kivy_alone_rss_mb<=150": b["rss_mb"] <= GOAL_RSS_MB}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
