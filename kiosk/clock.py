"""The one clock: wall time in UTC for what is stored and signed, the kiosk's own zone for people.

Everything that asks the time takes a ``WallClock`` (a callable returning an aware UTC
``datetime``) and a ``Monotonic`` for timers, injected from the composition root; nothing
reads ``datetime.now()`` itself. Stored times stay UTC; what a villager or a clerk reads
(screens, receipts, receipt numbers, the day report) is in ``[kiosk] timezone``, Georgian
time by default, whatever the machine's own ``TZ`` says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WallClock = Callable[[], dt.datetime]

DEFAULT_TIMEZONE = "Asia/Tbilisi"


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Tbilisi``); ``ValueError`` when the system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class LocalTime:
    """Turns stored UTC times into the kiosk's local time and date (for people, never for storage)."""

    def __init__(self, clock: WallClock, tz: dt.tzinfo) -> None:
        self._clock = clock
        self.tz = tz

    def now(self) -> dt.datetime:
        """The current local time, aware."""
        return self._clock().astimezone(self.tz)

    def today(self) -> dt.date:
        """The local date now: the day a receipt number, a form's date or the day report belongs to."""
        return self.now().date()

    def of(self, when: dt.datetime) -> dt.datetime:
        """``when`` (aware; naive is taken as UTC) in local time."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return when.astimezone(self.tz)

    def day_of(self, when: dt.datetime) -> dt.date:
        """The local date ``when`` fell on."""
        return self.of(when).date()
