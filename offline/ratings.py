"""Satisfaction ratings: one touch from 1 to 5 after a receipt, counted per day and score.

Nothing but the day and the score is kept — no person, no request, no time of day — so a
rating can never be tied back to a villager. ``counts()`` is what the heartbeat sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlite_utils
from sqlite_utils.migrations import Migrations

SCORES = range(1, 6)

MIGRATIONS = Migrations("kiosk-ratings")


@MIGRATIONS()
def m001_rating_counts(db: sqlite_utils.Database) -> None:
    """One counter per day and score."""
    db.table("rating_counts").create({"day": str, "score": int, "count": int}, pk=("day", "score"),
                               not_null={"count"}, defaults={"count": 0})


class Ratings:
    """Counts ratings on a SQLite database (the outbox's file, or its own)."""

    def __init__(self, db: sqlite_utils.Database, clock: Callable[[], dt.datetime], *,
                 zone: dt.tzinfo = dt.timezone.utc) -> None:
        """``zone`` is the kiosk's own time zone: ratings count per local day."""
        self._db = db
        self._clock = clock
        self._zone = zone
        MIGRATIONS.apply(db)

    def record(self, score: int) -> None:
        """Count one rating for today (the kiosk's local day)."""
        if score not in SCORES:
            raise ValueError(f"a rating is 1 to 5, not {score}")
        day = self._clock().astimezone(self._zone).date().isoformat()
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO rating_counts (day, score, count) VALUES (?, ?, 1) "
                "ON CONFLICT(day, score) DO UPDATE SET count = count + 1",
                [day, score],
            )

    def counts(self, since: dt.date | None = None) -> dict[str, dict[str, int]]:
        """``{"2026-11-21": {"1": 0, …, "5": 3}}`` for every day with ratings (from ``since`` on)."""
        where, args = ("WHERE day >= ?", [since.isoformat()]) if since else ("", [])
        result: dict[str, dict[str, int]] = {}
        for day, score, count in self._db.execute(
            f"SELECT day, score, count FROM rating_counts {where} ORDER BY day", args
        ):
            result.setdefault(day, {str(s): 0 for s in SCORES})[str(score)] = count
        return result
