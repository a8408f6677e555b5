"""Widgets shared by screens: PIN pad, on-screen keyboard, buttons, top bar, idle overlay."""
