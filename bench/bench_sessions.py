"""Memory growth over 500 citizen sessions in the real Kivy app offscreen, against bare Kivy doing the same.

Each run is a fresh process. ``kiosk``: the real ``KioskApp`` from ``build_services`` on the
simulated twins; each session is card in → PIN typed on the pad → a service → its questions
answered with touches → confirm (→ signing PIN) → done → card out (or finish → rating → card
out), every screen of the visit drawn (the "reading the card" message is replaced within its
frame), the language cycling through all five. Resident memory
(VmRSS, after ``gc.collect()``) is read after a warm-up and then every 50 sessions.

Peer: ``bare_kivy`` — a plain Kivy ``ScreenManager`` with one Label and one Button per screen,
driven through the same number of screen switches, touches, new label texts and frames per
session. That is what Kivy itself costs for the same amount of showing and drawing (texture
and font caches, event dispatch, the GL driver), so growth above it is the kiosk's own. An idle
app over the same wall time was not picked: it draws nothing new and so would hide Kivy's share.

``core_only_no_kivy``: the same visits on the core alone through the journey's verbs, to split
any growth into the core's share (outbox, crypto, SQLite) and the screens'.

A last kiosk run with tracemalloc (slower, so not counted in the RSS figures) names the source
lines whose Python allocations grew most, and which object types grew in number.

    python bench/bench_sessions.py [--runs 3] [--sessions 500] [--warmup 20] [--no-trace]

Goal (issue 6): growth over the 500 sessions <= 5 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

GOAL_GROWTH_MB = 5.0
CHECK_EVERY = 50  # sessions between two memory readings
LANGUAGES = ("ka", "en", "ru", "az", "hy")
PHONE = "577104522"
AUTH_PIN, WRONG_PIN, SIGN_PIN = "1234", "0000", "123456"
# Two kinds of visit, alternating: a plain certificate with the card pulled on the receipt, and a
# signed application (a wrong PIN first) that ends with the rating. Together they show every
# screen of a citizen's request: attract, message (reading), pin, services, intro, form, confirm,
# sign, done, rating.
PLAIN, SIGNED = "residence_certificate", "social_assistance_application"


def answer_for(field: object) -> str:
    """A valid answer to one of the two services' questions (choice, number, phone, consent)."""
    from kiosk.forms import CONSENT_GIVEN
    from protocol.catalogue import FieldType

    if field.type is FieldType.CHOICE:
        return field.choices[0].id
    if field.type is FieldType.CONSENT:
        return CONSENT_GIVEN
    if field.type is FieldType.PHONE:
        return PHONE
    if field.type is FieldType.NUMBER:
        return str(field.minimum or 1)
    raise RuntimeError(f"no scripted answer for a {field.type} question")


def rss_mb() -> float:
    """This process's resident memory now, in MB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope_per_100(points: list[tuple[int, float]]) -> float:
    """Least-squares MB per 100 sessions through ``(session, MB)`` points: steady growth, not one jump."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def _short(filename: str) -> str:
    return filename[len(str(REPO)) + 1:] if filename.startswith(str(REPO)) else filename


class Meter:
    """Memory readings at checkpoints; with ``trace``, tracemalloc and object-count snapshots too."""

    def __init__(self, warmup: int, sessions: int, trace: bool) -> None:
        self.warmup, self.total, self.trace = warmup, warmup + sessions, trace
        self.points: list[tuple[int, float]] = []
        self.started = self.finished = 0.0
        self._snap = None
        self._types: Counter[str] = Counter()
        self.top: list[dict[str, object]] = []
        self.types_grown: list[dict[str, object]] = []
        self.heap_growth_mb = 0.0

    def due(self, done: int) -> bool:
        """True when ``done`` sessions is a checkpoint."""
        return done >= self.warmup and ((done - self.warmup) % CHECK_EVERY == 0 or done == self.total)

    def read(self, done: int) -> None:
        """Collect garbage, read RSS; first and last checkpoint also snapshot the Python heap."""
        gc.collect()
        self.points.append((done, rss_mb()))
        if done == self.warmup:
            self.started = time.perf_counter()
        if done == self.total:
            self.finished = time.perf_counter()
        if not self.trace:
            return
        import tracemalloc

        types = Counter(type(o).__name__ for o in gc.get_objects())
        if done == self.warmup:
            self._snap, self._types = tracemalloc.take_snapshot(), types
        elif done == self.total:
            diff = tracemalloc.take_snapshot().compare_to(self._snap, "lineno")
            self.heap_growth_mb = sum(d.size_diff for d in diff) / 2**20
            self.top = [{"where": f"{_short(d.traceback[0].filename)}:{d.traceback[0].lineno}",
                         "kb": round(d.size_diff / 1024, 1), "blocks": d.count_diff}
                        for d in diff[:12] if d.size_diff > 0]
            grown = types - self._types
            self.types_grown = [{"type": t, "more": n} for t, n in grown.most_common(12)]

    def result(self) -> dict[str, object]:
        """What the run measured."""
        first, last = self.points[0][1], self.points[-1][1]
        out = {
            "rss_after_warmup_mb": round(first, 2),
            "rss_end_mb": round(last, 2),
            "growth_mb": round(last - first, 2),
            "slope_mb_per_100_sessions": round(slope_per_100(self.points), 3),
            "ms_per_session": round(1000 * (self.finished - self.started) / (self.total - self.warmup), 1),
            "rss_series_mb": [[n, round(mb, 1)] for n, mb in self.points],
        }
        if self.trace:
            out.update(python_heap_growth_mb=round(self.heap_growth_mb, 3), top_growth=self.top,
                       object_types_grown=self.types_grown)
        return out


class Script:
    """Runs a generator on the Kivy clock: each ``yield`` lets one frame be drawn."""

    def __init__(self, app: object, steps: object) -> None:
        self.app, self.steps, self.error = app, steps, ""

    def start(self, *_args: object) -> None:
        """Begin on the next frame."""
        from kivy.clock import Clock

        Clock.schedule_once(self._next, 0)

    def _next(self, _dt: float) -> None:
        from kivy.clock import Clock

        try:
            next(self.steps)
        except StopIteration:
            self.app.stop()
            return
        except Exception as exc:  # noqa: BLE001 - reported in the JSON; the parent fails on it
            self.error = f"{type(exc).__name__}: {exc}"
            self.app.stop()
            return
        Clock.schedule_once(self._next, 0)


# -- the kiosk -------------------------------------------------------------------------------------


class Villager:
    """Touches the real app through one session; ``frames`` counts the frames it let be drawn."""

    def __init__(self, app: object, demo: object) -> None:
        self.app, self.demo, self.frames = app, demo, 0
        self.screens_seen: set[str] = set()

    def frame(self):  # noqa: ANN201 - generator
        self.frames += 1
        self.screens_seen.add(self.app.current_screen)
        yield

    def reach(self, name: str):  # noqa: ANN201 - generator
        """Frames until ``name`` shows (a card event arrives on the next tick), then one to draw it."""
        for _ in range(50):
            if self.app.current_screen == name:
                yield from self.frame()
                return
            yield from self.frame()
        raise RuntimeError(f"expected {name}, saw {self.app.current_screen}: {self.app.journey.session.problem}")

    def tap(self, screen: str | None, *ids: str, **attrs: object) -> None:
        """Touch a widget of ``screen`` (None: the app's frame), found by its ids path or its attributes."""
        from demo.touch import find, tap

        widget = self.app.root if screen is None else self.app.screen(screen)
        for name in ids:
            widget = widget.ids[name]
        tap(find(widget, **attrs) if attrs else widget)

    def type(self, screen: str, digits: str) -> None:
        """Type ``digits`` on the screen's keypad."""
        for ch in digits:
            self.tap(screen, text=ch, disabled=False)

    def session(self, number: int):  # noqa: ANN201 - generator
        """One villager: language, card, PIN, a service, its questions, confirm, receipt, card out."""
        from protocol.catalogue import FieldType

        app, journey = self.app, self.app.journey
        lang = LANGUAGES[number % len(LANGUAGES)]
        signed = number % 2 == 1
        yield from self.reach("attract")
        if lang != app.tr.lang:
            self.tap(None, lang_code=lang)
            yield from self.reach("attract")
        self.demo.reader.insert(self.demo.new_card())
        yield from self.reach("pin")
        if signed:  # a wrong PIN first: the warning and tries left show, and go again
            self.type("pin", WRONG_PIN)
            self.tap("pin", "pad", "ok")
            yield from self.reach("pin")
        self.type("pin", AUTH_PIN)
        self.tap("pin", "pad", "ok")
        yield from self.reach("services")
        self.tap("services", service_id=SIGNED if signed else PLAIN)
        yield from self.reach("intro")
        self.tap("intro", "start")
        yield from self.reach("form")
        while (field := journey.current_field) is not None:
            answer = answer_for(field)
            if field.type is FieldType.CHOICE:  # a choice answers by its own touch
                self.tap("form", choice_id=answer)
            else:
                if field.type is FieldType.CONSENT:
                    self.tap("form", consent=True)
                else:
                    self.type("form", answer)
                self.tap("form", "next_button")
            yield from self.frame()
        yield from self.reach("confirm")
        self.tap("confirm", "send")
        if signed:
            yield from self.reach("sign")
            self.type("sign", SIGN_PIN)
            self.tap("sign", "pad", "ok")
        yield from self.reach("done")
        if signed:
            self.tap("done", "finish")
            yield from self.reach("rating")
            self.tap("rating", score=5)
            yield from self.reach("attract")
        self.demo.reader.remove()
        yield from self.reach("attract")
        if not journey.session.is_empty:
            raise RuntimeError("the session still holds citizen data after the card left")


def kiosk_child(args: argparse.Namespace) -> dict[str, object]:
    """Run the real app through the sessions; returns the meter's result."""
    if args.trace:
        import tracemalloc

        tracemalloc.start(1)
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings
    from screens.runner import prepare_kivy

    data = Path(args.data)
    services = build_services(load_settings(None, env={}).simulated(data))
    prepare_kivy(kivy_home=data / "kivy", headless=True, size=(1280, 800), fullscreen=False)
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")  # draw as fast as the machine can: 500 sessions take minutes, not hours
    from screens.app import KioskApp

    meter = Meter(args.warmup, args.sessions, args.trace)
    printed = 0
    villager: Villager | None = None

    def sessions(app: KioskApp):  # noqa: ANN202 - generator
        nonlocal printed
        for number in range(meter.total):
            yield from villager.session(number)
            # The simulated printer keeps every receipt's picture for tests to look at (a twin's
            # feature, not the kiosk's memory): count them and let them go, as paper leaves a printer.
            printed += len(services.demo.printer.receipts)
            services.demo.printer.receipts.clear()
            if meter.due(number + 1):
                meter.read(number + 1)

    holder: dict[str, Script] = {}

    def started(app: KioskApp) -> None:
        nonlocal villager
        villager = Villager(app, services.demo)
        holder["script"] = Script(app, sessions(app))
        holder["script"].start()

    app = KioskApp(services, on_started=started)
    app.run()
    services.close()
    result = meter.result() if not holder["script"].error else {}
    result.update(error=holder["script"].error, receipts_printed=printed,
                  frames_per_session=round(villager.frames / max(1, printed)),
                  screens_shown=sorted(villager.screens_seen))
    return result


def core_child(args: argparse.Namespace) -> dict[str, object]:
    """The same visits on the core alone, through the journey's verbs (no Kivy): splits growth into core and UI."""
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings

    services = build_services(load_settings(None, env={}).simulated(Path(args.data)))
    journey, demo = services.journey, services.demo
    services.card_reader.start(journey.on_card_event)
    meter = Meter(args.warmup, args.sessions, False)
    printed = 0
    for number in range(meter.total):
        signed = number % 2 == 1
        demo.reader.insert(demo.new_card())
        journey.enter_pin(bytearray(AUTH_PIN.encode()))
        journey.preview_service(SIGNED if signed else PLAIN)
        journey.choose_service(SIGNED if signed else PLAIN)
        while (field := journey.current_field) is not None:
            journey.answer(answer_for(field))
        journey.confirm()
        if signed:
            journey.sign(bytearray(SIGN_PIN.encode()))
            journey.finish()
            journey.rate(5)
        demo.reader.remove()
        printed += len(demo.printer.receipts)
        demo.printer.receipts.clear()
        if meter.due(number + 1):
            meter.read(number + 1)
    services.close()
    return {**meter.result(), "receipts_printed": printed, "error": ""}


# -- the peer ----------------------------------------------------------------------------------------


def bare_child(args: argparse.Namespace) -> dict[str, object]:
    """A bare Kivy ScreenManager shown and touched the same number of times; returns the meter's result."""
    os.environ["KIVY_NO_ARGS"] = "1"
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    Config.set("graphics", "maxfps", "0")
    from kivy.app import App
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from demo.touch import tap

    meter = Meter(args.warmup, args.sessions, False)
    screens = args.screens

    class Bare(App):
        def build(self) -> ScreenManager:
            self.sm = ScreenManager(transition=NoTransition())
            self.parts = []
            for n in range(screens):
                screen = Screen(name=f"s{n}")
                box = BoxLayout(orientation="vertical")
                label, button = Label(text=f"screen {n}", font_size=32), Button(text="next")
                box.add_widget(label)
                box.add_widget(button)
                screen.add_widget(box)
                self.sm.add_widget(screen)
                self.parts.append((label, button))
            return self.sm

        def on_start(self) -> None:
            self.script = Script(self, self.steps())
            self.script.start()

        def steps(self):  # noqa: ANN202 - generator
            for number in range(meter.total):
                for step in range(args.frames):
                    n = step % screens
                    label, button = self.parts[n]
                    label.text = f"Session {number}, step {step}: new words on screen {n}"
                    tap(button)
                    self.sm.current = f"s{n}"
                    yield
                if meter.due(number + 1):
                    meter.read(number + 1)

    app = Bare()
    app.run()
    result = meter.result() if not app.script.error else {}
    result["error"] = app.script.error
    return result


# -- the parent --------------------------------------------------------------------------------------


def child(kind: str, data: Path, args: argparse.Namespace, **extra: object) -> dict[str, object]:
    """Run one measured process and return its JSON."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--data", str(data),
               "--sessions", str(args.sessions), "--warmup", str(args.warmup)]
    for key, value in extra.items():
        command += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    (data / "kivy").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(data / "kivy"),
           "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(REPO), timeout=3600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{kind} run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(line[7:])
    if result.get("error"):
        raise RuntimeError(f"{kind} run failed: {result['error']}\n{proc.stderr[-3000:]}")
    return result


def summary(rows: list[dict[str, object]]) -> dict[str, object]:
    """Medians over the runs, and each run's growth."""
    keys = ("rss_after_warmup_mb", "rss_end_mb", "growth_mb", "slope_mb_per_100_sessions", "ms_per_session")
    out = {k: round(statistics.median(r[k] for r in rows), 3) for k in keys}
    out["growth_mb_each_run"] = [r["growth_mb"] for r in rows]
    out["rss_series_mb_first_run"] = rows[0]["rss_series_mb"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--trace-sessions", type=int, default=200,
                        help="sessions of the tracemalloc run (it is about twice as slow)")
    parser.add_argument("--child", choices=("kiosk", "bare", "core"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--screens", type=int, default=10, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = {"kiosk": kiosk_child, "bare": bare_child, "core": core_child}[args.child]
        print("RESULT " + json.dumps(run(args)), flush=True)
        return

    kiosk, bare, core = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs):  # interleaved, so both see the same noise from the shared machine
            kiosk.append(child("kiosk", Path(tmp) / f"kiosk{n}", args))
            bare.append(child("bare", Path(tmp) / f"bare{n}", args, frames=kiosk[-1]["frames_per_session"],
                              screens=len(kiosk[-1]["screens_shown"])))
            core.append(child("core", Path(tmp) / f"core{n}", args))
        traced_args = argparse.Namespace(**{**vars(args), "sessions": min(args.sessions, args.trace_sessions)})
        traced = None if args.no_trace else child("kiosk", Path(tmp) / "traced", traced_args, trace=True)

    report: dict[str, object] = {
        "sessions": args.sessions,
        "warmup_sessions": args.warmup,
        "runs": args.runs,
        "kiosk": {**summary(kiosk), "frames_per_session": kiosk[0]["frames_per_session"],
                  "receipts_printed_per_run": kiosk[0]["receipts_printed"], "screens_shown": kiosk[0]["screens_shown"]},
        "bare_kivy_screens": summary(bare),
        "core_only_no_kivy": summary(core),  # the same visits through the journey's verbs: the core's share
    }
    report["growth_over_bare_mb"] = round(report["kiosk"]["growth_mb"] - report["bare_kivy_screens"]["growth_mb"], 2)
    if traced is not None:
        # its RSS is not a figure: tracemalloc's own traces and the first snapshot are in it
        report["kiosk_traced"] = {"sessions": traced_args.sessions, **{k: traced[k] for k in (
            "python_heap_growth_mb", "top_growth", "object_types_grown")}}
    report["goals"] = {"growth_mb<=5": report["kiosk"]["growth_mb"] <= GOAL_GROWTH_MB}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
