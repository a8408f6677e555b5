"""Satisfaction counts on SQLite (the outbox's own file): per day and score, nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlite_utils

from offline.outbox import Outbox
from offline.ratings import Ratings


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


def test_counts_per_day_and_score_on_the_outbox_file(tmp_path) -> None:
    """GIVEN ratings over two days WHEN counted THEN each day has all five scores with its counts, and they survive a reopen."""
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox.sqlite", "KSK-0001", clock)
    ratings = Ratings(outbox.db, clock)
    for score in (5, 5, 4):
        ratings.record(score)
    clock.now += dt.timedelta(days=1)
    ratings.record(1)
    outbox.close()
    again = Ratings(sqlite_utils.Database(tmp_path / "outbox.sqlite"), clock)  # migrations run once
    day1 = (clock.now - dt.timedelta(days=1)).astimezone().date().isoformat()
    day2 = clock.now.astimezone().date().isoformat()
    assert again.counts() == {
        day1: {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2},
        day2: {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert list(again.counts(since=dt.date.fromisoformat(day2))) == [day2]


@pytest.mark.parametrize("score", [0, 6, -1])
def test_out_of_range_scores_are_refused(tmp_path, score: int) -> None:
    """GIVEN a score outside 1–5 WHEN recorded THEN ValueError and nothing counted."""
    ratings = Ratings(sqlite_utils.Database(tmp_path / "r.sqlite"), Clock())
    with pytest.raises(ValueError):
        ratings.record(score)
    assert ratings.counts() == {}


def test_the_table_holds_day_score_count_only(tmp_path) -> None:
    """GIVEN the ratings table WHEN its columns are listed THEN there is no room for anything personal or a time of day."""
    db = sqlite_utils.Database(tmp_path / "r.sqlite")
    Ratings(db, Clock()).record(3)
    assert set(db["rating_counts"].columns_dict) == {"day", "score", "count"}
