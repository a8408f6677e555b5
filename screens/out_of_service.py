"""The one screen a kiosk shows when it must not take requests (its queue file is damaged).

``kiosk run`` falls back to it instead of crashing in a loop under systemd: the villager reads in
every language why the kiosk is out of service and to ask staff; a technician reads the details
with ``kiosk diag`` and ``kiosk queue clear-corruption``.
"""

from __future__ import annotations

from kiosk.config import Settings
from kiosk.i18n import Translator


def run_out_of_service(settings: Settings, translator: Translator, key: str, *, locked: bool = True) -> None:
    """Show ``key`` in all the kiosk's languages, full screen, until the kiosk is restarted."""
    from screens.runner import prepare_kivy

    display = settings.display
    prepare_kivy(kivy_home=settings.kiosk.data_dir / "kivy", headless=False,
                 size=(display.width, display.height), fullscreen=display.fullscreen)
    from kivy.app import App
    from kivy.core.text import LabelBase
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from assets import font_path
    from screens.hardening import disable_kivy_modules, harden

    if locked:
        disable_kivy_modules()
    LabelBase.register("KioskSans", str(font_path()), fn_bold=str(font_path(bold=True)))
    lines = [translator(key, lang) for lang in translator.languages]

    class OutOfService(App):
        def build(self) -> BoxLayout:
            box = BoxLayout(orientation="vertical", padding=40, spacing=24)
            for i, line in enumerate(lines):
                label = Label(text=line, font_name="KioskSans", font_size=34 if i == 0 else 24,
                              bold=i == 0, halign="center", valign="middle", color=(1, 1, 1, 1))
                label.bind(size=lambda w, s: setattr(w, "text_size", (s[0], None)))
                box.add_widget(label)
            return box

        def on_start(self) -> None:
            if locked:
                harden(self)

    OutOfService().run()

