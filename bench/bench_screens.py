"""Time to build and show each citizen screen the first time, and to show it again, offscreen.

Each run is a fresh process running the real ``KioskApp`` on the simulated twins through the
demo tour's citizen journey (``demo.tour.citizen_journey``: card, a wrong PIN, a request,
my requests, a PIN change, a signed request, the rating, then a card blocked and unblocked with
the PUK) several times over, with touches. Every screen a citizen can reach is shown on the way.

For each time the app shows a screen (``KioskApp._show``) it records:
``show_ms`` — build it if it is new (import, .kv rules, widgets), refresh it from the journey,
switch to it; ``frame_ms`` — from then until the next frame is drawn and finished (layout, text
rendered into textures, GL drawing; ``glFinish``). ``total_ms`` is the sum, the time a villager
waits. The other journey listeners (the audio guide starting espeak-ng) are left out of both
and reported apart. A screen shown and replaced within one frame (``message`` while the card
is read) has no frame of its own; it is counted with ``show_ms`` only, and marked.

Peer, in the same window and the same run: a bare Kivy ``Screen`` with one ``Label`` added
to the same ScreenManager and shown the same way, first time and again.

    python bench/bench_screens.py [--runs 5] [--rounds 4]

Goal (issue 6): each screen's first and repeat show <= 50 ms.

With ``--card-delay S`` it measures instead whether the screen keeps drawing while a slow card
answers (issue 16): the same journey on a simulated card that takes S seconds per operation
(reading the certificates, the PIN state, each login, signature or PIN change), and the time
between consecutive frames of the Kivy event loop — the longest, and those during card operations.
Peer, in the same run: the same journey with card operations on the UI thread, as before
``kiosk.card_work`` (the screen stops for the whole operation).

    python bench/bench_screens.py --card-delay 0.8 [--runs 3]

Goal (issue 16): <= 100 ms between frames during card operations.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

GOAL_MS = 50.0
FRAME_GAP_GOAL_MS = 100.0
BARE_SHOWS = 6  # bare screens built; each is then shown again as many times


def child(args: argparse.Namespace) -> dict[str, object]:
    """One process: the tour's journey ``args.rounds`` times, then the bare screens; every show's times."""
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings
    from screens.runner import prepare_kivy

    data = Path(args.data)
    services = build_services(load_settings(None, env={}).simulated(data))
    prepare_kivy(kivy_home=data / "kivy", headless=True, size=(1280, 800), fullscreen=False)
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen

    from demo.touch import run_script
    from demo.tour import citizen_journey
    from kiosk.session import Step
    from screens.app import KioskApp
    from screens.registry import STEP_SCREENS

    shows: list[dict[str, object]] = []
    listeners_ms: list[float] = []
    pending: dict[str, object] = {}  # the last show of this frame, waiting for the frame to be drawn

    def mark(record: dict[str, object]) -> None:
        pending.clear()
        pending.update(record=record, since=time.perf_counter(), gc0=gc_time["total"])

    # Python's garbage collector runs inside whatever allocates: a full collection (generation 2)
    # walks every object and stalls the screen that triggered it. Its time is counted per show.
    gc_time: dict[str, object] = {"started": 0.0, "total": 0.0, "record": None}  # record: the show being timed

    def gc_timer(phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            gc_time["started"] = now
            return
        gc_time["total"] += (now - gc_time["started"]) * 1000
        record = gc_time.get("record")
        if info["generation"] == 2 and record is not None:
            record["full_gc_ms"] = round(record.get("full_gc_ms", 0.0) + (now - gc_time["started"]) * 1000, 1)

    gc.callbacks.append(gc_timer)

    class TimedApp(KioskApp):
        """The kiosk app, its ``_show`` timed (nothing else changed)."""

        def _show(self, step: Step) -> None:
            name = STEP_SCREENS[step]
            record = {"screen": name, "first": name not in self._screens,
                      "switch": self.manager.current != name, "round": state["round"]}
            profile = cProfile.Profile() if record["first"] and name == args.profile else None
            gc0, gc_time["record"] = gc_time["total"], record
            started = time.perf_counter()
            if profile:
                profile.runcall(super()._show, step)
            else:
                super()._show(step)
            record["show_ms"] = (time.perf_counter() - started) * 1000
            record["gc_ms"] = gc_time["total"] - gc0
            if profile:
                pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
            shows.append(record)
            mark(record)

    def after_listeners(_step: Step) -> None:
        # subscribed last: the audio guide and the rest have run; the frame is timed from here
        if pending:
            listeners_ms.append((time.perf_counter() - pending["since"]) * 1000)
            pending["since"] = time.perf_counter()

    def drawing(*_args: object) -> None:
        if pending:  # layout and text are done (Clock.tick_draw); the GL drawing starts
            pending["drawing"] = time.perf_counter()

    def flipped(*_args: object) -> None:
        if pending:
            glFinish()  # software GL draws lazily: wait until the frame is really drawn
            now = time.perf_counter()
            record = pending["record"]
            record["frame_ms"] = (now - pending["since"]) * 1000
            record["draw_ms"] = (now - pending.get("drawing", now)) * 1000
            record["gc_ms"] = record.get("gc_ms", 0.0) + gc_time["total"] - pending["gc0"]
            pending.clear()
            gc_time["record"] = None

    state = {"round": 0, "error": ""}

    def failed(exc: Exception) -> None:  # reported in the JSON; the parent fails on it
        state["error"] = f"{type(exc).__name__}: {exc}"

    def bare_show(screen: Screen | None, name: str, round_no: int) -> None:
        record = {"screen": "bare_kivy", "first": screen is not None, "switch": True, "round": round_no}
        gc0, gc_time["record"] = gc_time["total"], record
        started = time.perf_counter()
        if screen is not None:
            screen.add_widget(Label(text=f"A bare screen {name}", font_size=32))
            app.manager.add_widget(screen)
        app.manager.current = name
        record["show_ms"] = (time.perf_counter() - started) * 1000
        record["gc_ms"] = gc_time["total"] - gc0
        shows.append(record)
        mark(record)

    def script():  # noqa: ANN202 - generator: each yield lets one frame be drawn (demo.touch.run_script)
        yield 0
        for round_no in range(1, args.rounds + 1):
            state["round"] = round_no
            for step in citizen_journey(services.demo, "ka"):
                if step.action:
                    step.action(app)
                for _ in range(100):
                    yield 0
                    if (app.current_screen == step.expect and len(app.manager.children) == 1
                            and services.journey.card_work.idle):  # the card's answer (its own thread) is in
                        break
                else:
                    raise RuntimeError(f"round {round_no}, {step.name}: expected {step.expect}, "
                                       f"saw {app.current_screen}")
        state["round"] = 0
        names = [f"bare{n}" for n in range(BARE_SHOWS)]
        for name in names:  # built and shown the first time, one frame each
            bare_show(Screen(name=name), name, 0)
            yield 0
            yield 0
        for n in range(BARE_SHOWS):  # shown again, each after another one
            bare_show(None, names[n], 1)
            yield 0
            yield 0

    def started(started_app: KioskApp) -> None:
        started_app.journey.subscribe(after_listeners)
        Window.bind(on_draw=drawing, on_flip=flipped)
        run_script(started_app, script(), failed, first_delay=0.2)

    app = TimedApp(services, on_started=started)
    app.run()
    services.close()
    return {"shows": shows, "listeners_ms": listeners_ms, "error": state["error"]}


def frames_child(args: argparse.Namespace) -> dict[str, object]:
    """One process: the tour's journey on a card ``args.card_delay`` s slow; every frame-to-frame gap.

    ``args.mode`` "thread": as the kiosk runs; "ui_thread": card operations on the UI thread (the peer)."""
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings
    from screens.runner import prepare_kivy

    data = Path(args.data)
    services = build_services(load_settings(None, env={}).simulated(data))
    prepare_kivy(kivy_home=data / "kivy", headless=True, size=(1280, 800), fullscreen=False)
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    from demo.touch import run_script
    from demo.tour import citizen_journey
    from screens.app import KioskApp

    demo, card_work = services.demo, services.journey.card_work
    slow_card = demo.new_card
    demo.new_card = lambda **kwargs: slow_card(delay_s=args.card_delay, **kwargs)  # type: ignore[method-assign]
    if args.mode == "ui_thread":
        card_work.use_thread = lambda post: None  # type: ignore[method-assign]  # the peer: answers at once, here
    asked = {"now": False}
    plain_run = card_work.run

    def run(*a: object, **kw: object) -> None:
        asked["now"] = True  # a card operation started in this frame
        plain_run(*a, **kw)  # type: ignore[arg-type]

    card_work.run = run  # type: ignore[method-assign]
    gaps: list[tuple[float, bool, int]] = []  # (ms since the previous frame, a card operation was on, round)
    last = {"t": 0.0}
    state = {"error": "", "operations": 0, "round": 0}

    def failed(exc: Exception) -> None:  # reported in the JSON; the parent fails on it
        state["error"] = f"{type(exc).__name__}: {exc}"

    def frame(_dt: float) -> None:
        now = time.perf_counter()
        on = asked["now"] or not card_work.idle
        state["operations"] += asked["now"] and state["round"] == args.rounds
        if last["t"] and state["round"]:
            gaps.append(((now - last["t"]) * 1000, on, state["round"]))

        last["t"], asked["now"] = now, False

    def script():  # noqa: ANN202 - generator: each yield lets one frame be drawn (demo.touch.run_script)
        yield 0
        for round_no in range(1, args.rounds + 1):
            state["round"] = round_no
            for step in citizen_journey(demo, "ka"):
                if step.action:
                    step.action(app)
                deadline = time.monotonic() + 60
                while True:
                    yield 0
                    if app.current_screen == step.expect and len(app.manager.children) == 1 and card_work.idle:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{step.name}: expected {step.expect}, saw {app.current_screen}")

    def started(started_app: KioskApp) -> None:
        # software GL draws lazily and queues frames, then stalls one for all of them: each frame is
        # finished when it is flipped, so a gap is what that frame really cost (as for the shows above)
        Window.fbind("on_flip", lambda *_a: glFinish())
        Clock.schedule_interval(frame, 0)
        run_script(started_app, script(), failed, first_delay=0.2)

    app = KioskApp(services, on_started=started)
    app.run()
    services.close()
    return {"gaps": gaps, "operations": state["operations"], "error": state["error"]}


def frame_gap_report(args: argparse.Namespace) -> dict[str, object]:
    """``--card-delay``: frame gaps with the card on its own thread and, the peer, on the UI thread."""
    report: dict[str, object] = {"card_delay_s": args.card_delay, "runs": args.runs,
                                 "goal_ms_between_frames_during_card_operations": FRAME_GAP_GOAL_MS}
    with tempfile.TemporaryDirectory() as tmp:
        run_child(Path(tmp) / "warm", argparse.Namespace(rounds=1))  # makes the demo PKI; fills the disk cache
        for mode in ("thread", "ui_thread"):
            runs = [run_child(Path(tmp) / f"{mode}{n}", args, extra=["--mode", mode, "--card-delay",
                                                                    str(args.card_delay)]) for n in range(args.runs)]
            # the last journey of each run: every screen is built by then (a first show is issue 6's figure)
            during = [[ms for ms, on, n in r["gaps"] if on and n == args.rounds] for r in runs]
            first = [[ms for ms, on, n in r["gaps"] if on and n == 1] for r in runs]
            report[mode] = {
                "card_operations_per_journey": runs[0]["operations"],
                "frames_during_card_operations_per_journey": statistics.median(len(d) for d in during),
                "max_gap_during_card_operations_ms": round(statistics.median(max(d) for d in during), 1),
                "p95_gap_during_card_operations_ms": round(statistics.median(
                    statistics.quantiles(d, n=20)[-1] for d in during), 1),
                "gaps_over_goal_during_card_operations_per_journey": statistics.median(
                    sum(ms > FRAME_GAP_GOAL_MS for ms in d) for d in during),
                "first_journey_max_gap_during_card_operations_ms": round(statistics.median(max(d) for d in first), 1),
            }
    thread, peer = report["thread"], report["ui_thread"]  # type: ignore[index]
    report["peer_over_kiosk_max_gap"] = round(peer["max_gap_during_card_operations_ms"]
                                              / thread["max_gap_during_card_operations_ms"], 1)
    report["goal_met"] = thread["max_gap_during_card_operations_ms"] <= FRAME_GAP_GOAL_MS
    return report


PARTS = ("total_ms", "build_and_switch_ms", "layout_and_text_ms", "gl_draw_ms", "of_which_gc_ms")


def parts(show: dict[str, object]) -> dict[str, float]:
    """One show split: build and switch, then layout and text into textures, then the GL drawing."""
    frame, draw = show.get("frame_ms", 0.0), show.get("draw_ms", 0.0)
    return {"total_ms": show["show_ms"] + frame, "build_and_switch_ms": show["show_ms"],
            "layout_and_text_ms": frame - draw, "gl_draw_ms": draw, "of_which_gc_ms": show.get("gc_ms", 0.0)}


def per_screen(shows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """For each screen: its first show, and the medians of its later shows (switching to it, drawn)."""
    out: dict[str, dict[str, object]] = {}
    for name in dict.fromkeys(s["screen"] for s in shows):
        mine = [s for s in shows if s["screen"] == name]
        again = [parts(s) for s in mine[1:] if s["switch"] and "frame_ms" in s and not s["first"]]
        out[name] = {"first": parts(mine[0]), "first_drawn": "frame_ms" in mine[0],
                     "again": {k: statistics.median(a[k] for a in again) for k in PARTS} if again else None}
    return out


def run_child(data: Path, args: argparse.Namespace, extra: list[str] | None = None) -> dict[str, object]:
    """One measured process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--data", str(data),
               "--rounds", str(getattr(args, "rounds", 1)), *(extra or [])]
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(data / "kivy"),
           "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(REPO), timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(line[7:])
    if result["error"]:
        raise RuntimeError(f"run failed: {result['error']}\n{proc.stderr[-3000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=None,
                        help="citizen journeys per run (the first builds); default 4, with --card-delay 2")
    parser.add_argument("--profile", metavar="SCREEN",
                        help="with --child: print where the first show of SCREEN spends its time (stderr)")
    parser.add_argument("--card-delay", type=float, metavar="S",
                        help="measure frame gaps while a card this slow (s per operation) answers, instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("thread", "ui_thread"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(frames_child(args) if args.mode else child(args)), flush=True)
        return
    if args.card_delay is not None:
        args.rounds = args.rounds or 2
        print(json.dumps(frame_gap_report(args), indent=2))
        return
    args.rounds = args.rounds or 4

    with tempfile.TemporaryDirectory() as tmp:
        run_child(Path(tmp) / "warm", argparse.Namespace(rounds=1))  # makes the demo PKI; fills the disk cache
        runs = [run_child(Path(tmp) / f"run{n}", args) for n in range(args.runs)]
    tables = [per_screen(r["shows"]) for r in runs]

    def med(name: str, when: str, key: str) -> float | None:
        values = [t[name][when][key] for t in tables if name in t and t[name][when] is not None]
        return round(statistics.median(values), 1) if values else None

    screens = {}
    for name in tables[0]:
        screens[name] = {f"{when}_{key}": med(name, when, key) for when in ("first", "again") for key in PARTS}
        if not tables[0][name]["first_drawn"]:
            screens[name]["note"] = "first shown and replaced within one frame (reading the card): no frame of its own"
    bare = screens.pop("bare_kivy")
    names = list(screens)

    def own(name: str, when: str) -> float | None:
        """The kiosk's own share: what a bare screen does not cost (GL drawing left out, it is the GPU's)."""
        total, draw = screens[name][f"{when}_total_ms"], screens[name][f"{when}_gl_draw_ms"]
        return None if total is None else round(total - draw, 1)

    full = [(s["screen"], s["full_gc_ms"]) for r in runs for s in r["shows"] if "full_gc_ms" in s]
    report = {
        "runs": args.runs,
        "journeys_per_run": args.rounds,
        "screens": screens,
        "bare_kivy_screen": bare,
        "audio_and_other_listeners_ms_median": round(statistics.median(
            v for r in runs for v in r["listeners_ms"]), 2),
        "full_gc_during_shows": {"count": len(full), "shows": sum(len(r["shows"]) for r in runs),
                                 "max_ms": max((ms for _, ms in full), default=0.0),
                                 "median_ms": statistics.median(ms for _, ms in full) if full else 0.0,
                                 "screens": sorted({name for name, _ in full})},
        "slowest_first": max(names, key=lambda n: screens[n]["first_total_ms"]),
        "slowest_again": max((n for n in names if screens[n]["again_total_ms"] is not None),
                             key=lambda n: screens[n]["again_total_ms"]),
        "goals": {
            "total_ms<=50 (first, again)": {n: [screens[n]["first_total_ms"] <= GOAL_MS,
                                               screens[n]["again_total_ms"] is None
                                               or screens[n]["again_total_ms"] <= GOAL_MS] for n in names},
            "without_gl_draw_ms<=50 (first, again)": {n: [own(n, "first") <= GOAL_MS,
                                                         own(n, "again") is None or own(n, "again") <= GOAL_MS]
                                                     for n in names},
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
