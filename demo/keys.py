"""Keyboard shortcuts of the windowed demo."""

from __future__ import annotations

from typing import Any


def bind_demo_keys(app: Any) -> None:
    """F1 inserts or removes the demo card in the windowed demo."""
    from kivy.core.window import Window

    demo = app.services.demo

    def on_key(_window: object, key: int, *_args: object) -> bool:
        if key == 282:  # F1
            if demo.reader.card is None:
                demo.reader.insert(demo.new_card())
            else:
                demo.reader.remove()
            return True
        return False

    Window.bind(on_key_down=on_key)
