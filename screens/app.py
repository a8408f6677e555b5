"""The Kivy application: receives ``Services``, shows the screen for each journey step.

Worker threads (the card monitor, the card thread of ``kiosk.card_work``) never touch widgets: their
events and answers reach the journey on the main thread through ``Clock.schedule_once``. While the
card answers, ``BusyOverlay`` says so over the screen and refuses touches.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from assets import font_path
from kiosk.ports import CardEvent
from kiosk.services import Services
from kiosk.session import Step
from offline.sync_types import SyncStatus
from screens.base import KioskScreen
from screens.observable import ObservableTranslator, Theme
from screens.registry import STEP_SCREENS, load_screen_class
from screens.role_login.wiring import attach_modes
from screens.widgets.busy import BusyOverlay
from screens.widgets.entry import AnswerField
from screens.widgets.keyboard import KeyboardKey, KeyboardRow, OnScreenKeyboard
from screens.widgets.pinpad import PinPad

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# Each language is offered in its own words, so a person finds theirs without reading the others.
LANGUAGE_NAMES = {"ka": "ქართული", "en": "English", "ru": "Русский", "az": "Azərbaycanca", "hy": "Հայերեն"}


class IdleOverlay(BoxLayout):
    """The idle countdown box; while shown, touches on it never reach the screen beneath."""

    def on_touch_down(self, touch: Any) -> bool:
        if super().on_touch_down(touch):
            return True
        return self.opacity > 0 and self.collide_point(*touch.pos)


class KioskRoot(FloatLayout):
    """Top bar, demo banner, the screens, and the idle countdown over them."""

    demo = BooleanProperty(False)
    countdown = NumericProperty(-1)
    busy = StringProperty("")  # what the card (or the hub) is doing, while the screen waits for its answer
    on_more_time = ObjectProperty(None)

    def more_time(self) -> None:
        """The person asked for more time."""
        if self.on_more_time:
            self.on_more_time()


class KioskApp(App):
    """The kiosk's touch interface over the journey."""

    theme = ObjectProperty(None)
    tr = ObjectProperty(None)
    audio_available = BooleanProperty(False)  # a speech engine is installed: the speaker toggle shows
    audio_on = BooleanProperty(False)
    sync_state = StringProperty("")  # "", or offline / online / syncing once the sync engine reports
    sync_queued = NumericProperty(0)

    def __init__(self, services: Services, on_started: Callable[[KioskApp], None] | None = None) -> None:
        super().__init__()
        self.services = services
        self.journey = services.journey
        self.title = "Community Centre Kiosk"
        self._on_started = on_started
        self._screens: dict[str, KioskScreen] = {}

    def build(self) -> KioskRoot:
        LabelBase.register("KioskSans", str(font_path()), fn_bold=str(font_path(bold=True)))
        kiosk = self.services.settings.kiosk
        self.theme = Theme(
            self.services.settings.display.dpi, high_contrast=kiosk.high_contrast, text_scale=kiosk.text_scale
        )
        self.tr = ObservableTranslator(self.services.translator)
        Factory.register("PinPad", cls=PinPad)
        Factory.register("OnScreenKeyboard", cls=OnScreenKeyboard)
        Factory.register("KeyboardKey", cls=KeyboardKey)
        Factory.register("KeyboardRow", cls=KeyboardRow)
        Factory.register("AnswerField", cls=AnswerField)
        Factory.register("IdleOverlay", cls=IdleOverlay)
        Factory.register("BusyOverlay", cls=BusyOverlay)
        Builder.load_file(str(HERE / "widgets" / "widgets.kv"))
        Builder.load_file(str(HERE / "widgets" / "busy.kv"))
        Builder.load_file(str(HERE / "widgets" / "keyboard.kv"))
        Builder.load_file(str(HERE / "app.kv"))
        Window.bind(size=self._on_window_size)
        self.theme.fit(*Window.size)
        root = KioskRoot(demo=self.services.settings.is_simulated)
        root.on_more_time = self.journey.touch
        self.root_widget = root
        self.manager: ScreenManager = root.ids.sm
        self.manager.transition = NoTransition()
        self._build_language_buttons(root)
        self.tr.bind(lang=lambda *_: self._refresh_current())
        Window.bind(on_touch_down=lambda *_: self.journey.touch())
        self.journey.subscribe(self._show)
        # card operations run on the card thread from now on; their answers come back on this one
        self.journey.card_work.use_thread(lambda answer: Clock.schedule_once(lambda _dt: answer()))
        self.journey.card_work.subscribe(lambda say: setattr(root, "busy", say or ""))
        self._attach_audio()
        self._card_sink = self.services.modes.on_card_event if self.services.modes else self.journey.on_card_event
        attach_modes(self)  # the hidden gesture, role login, staff and technician screens
        self._show(self.journey.step)
        Clock.schedule_interval(self._tick, 0.25)
        return root

    def on_start(self) -> None:
        Window.bind(on_flip=self._after_first_frame)
        self.services.card_reader.start(self._card_event_from_any_thread)
        # the sync thread reports; the UI applies it on its own thread
        self.services.sync.subscribe(lambda status: Clock.schedule_once(lambda _dt: self._sync_status(status)))
        if self._on_started:
            self._on_started(self)

    def _after_first_frame(self, *_args: object) -> None:
        Window.unbind(on_flip=self._after_first_frame)
        Clock.schedule_once(self._freeze_heap)  # the next tick: the first frame is already on the screen

    @staticmethod
    def _freeze_heap(_dt: float) -> None:
        # Everything built so far lives as long as the app: keep it out of the collector's full
        # passes, which otherwise land mid-screen as 0.1-0.3 s stalls (bench/bench_screens.py).
        # Done once the attract screen shows, not before: the pass takes ~30 ms.
        gc.collect()
        gc.freeze()

    def _sync_status(self, status: SyncStatus) -> None:
        self.sync_state, self.sync_queued = status.state.value, status.queued

    def on_stop(self) -> None:
        self.services.card_reader.stop()

    def _attach_audio(self) -> None:
        """Spoken prompts follow the journey (after the screen is shown); the toggle follows the guide."""
        audio = self.services.audio
        if audio is None:
            return
        self.audio_available, self.audio_on = audio.available, audio.enabled
        audio.subscribe(lambda on: setattr(self, "audio_on", on))
        audio.attach(self.journey)

    def set_audio(self, on: bool) -> None:
        """The speaker toggle was touched."""
        if self.services.audio is not None:
            self.services.audio.set_enabled(on)

    def _on_window_size(self, _window: object, size: tuple[int, int]) -> None:
        self.theme.fit(*size)

    def _build_language_buttons(self, root: KioskRoot) -> None:
        box = root.ids.languages
        for lang in self.tr.languages:
            button = Factory.LanguageButton(text=LANGUAGE_NAMES[lang], group="language")
            button.state = "down" if lang == self.tr.lang else "normal"
            button.lang_code = lang
            button.bind(on_release=lambda b: self.tr.switch(b.lang_code))
            box.add_widget(button)
        self.tr.bind(lang=lambda _tr, lang: self._mark_language(box, lang))

    @staticmethod
    def _mark_language(box: Any, lang: str) -> None:
        for button in box.children:
            button.state = "down" if button.lang_code == lang else "normal"

    def _card_event_from_any_thread(self, event: CardEvent) -> None:
        Clock.schedule_once(lambda _dt: self._card_sink(event))

    def screen(self, name: str) -> KioskScreen:
        """The screen called ``name``, built the first time it is needed."""
        if name not in self._screens:
            cls = load_screen_class(name)
            screen = cls(journey=self.journey, tr=self.tr, name=name)
            self._screens[name] = screen
            self.manager.add_widget(screen)
        return self._screens[name]

    @property
    def current_screen(self) -> str:
        """Name of the screen showing now."""
        return self.manager.current

    def _show(self, step: Step) -> None:
        if step is Step.ATTRACT:
            for screen in self._screens.values():
                screen.wipe()
            # the next villager starts with the kiosk's own contrast and text size
            self.theme.reset()
        name = STEP_SCREENS[step]
        screen = self.screen(name)
        screen.refresh()
        self.manager.current = name
        self.root_widget.countdown = -1

    def show_journey(self) -> None:
        """Show the citizen journey's current screen (a staff or technician mode closed)."""
        self._show(self.journey.step)

    def _refresh_current(self) -> None:
        if self.manager.current in self._screens:
            self._screens[self.manager.current].refresh()

    def _tick(self, _dt: float) -> None:
        self.journey.tick()
        left = self.journey.countdown()
        self.root_widget.countdown = -1 if left is None else left

    def all_screens(self) -> dict[str, KioskScreen]:
        """Every screen built so far (for tests that check wiping)."""
        return dict(self._screens)
