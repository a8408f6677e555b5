"""What a flow of the citizen journey (sending, the PIN services) needs from the journey holding it.

A flow is an object the journey holds and calls; it reads where the visit is and what it holds,
and moves the journey on only through these few public operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kiosk.card_work import CardWork
    from kiosk.session import CitizenSession, Step


class FlowHost(Protocol):
    """The journey as its flows see it: the visit's step and session, its card thread, and three ways to move on."""

    @property
    def step(self) -> Step:
        """The step on screen now."""
        ...

    @property
    def session(self) -> CitizenSession:
        """Everything held about the person at the kiosk."""
        ...

    @property
    def card_work(self) -> CardWork:
        """Where card operations run (off the UI thread); their answers come back only to this session."""
        ...

    @property
    def assisted_by(self) -> str:
        """Masked id of the staff member helping this visit ("" when nobody is)."""
        ...

    def move_to(self, step: Step) -> None:
        """Show ``step`` (the same step again redraws it) and restart the idle clock."""
        ...

    def fail(self, exc: BaseException) -> None:
        """Wipe the session and show the failure page, saying ``exc``'s translation key."""
        ...

    def end_session(self, reason: str) -> None:
        """Wipe everything and return to the attract screen."""
        ...
