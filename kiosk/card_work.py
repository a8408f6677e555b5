"""Card operations off the UI thread: one card thread, answers back on the UI thread, late answers dropped.

A real ID card takes half a second to a second to sign, a middleware can add more, and a reader's
own keypad waits for the villager's fingers. Done on the UI thread that freezes the screen: touches
queue up, the idle countdown stops. So the journey hands each card operation to ``CardWork.run``:
the job runs on the one card thread — operations on a card never overlap, and the next villager's
card waits until the last answer about the previous one is in — and its ``Answer`` comes back
through ``post`` on the UI thread, where the journey reads it (``answer.get()`` returns the value
or raises what the job raised).

While a job is out, ``busy`` is the translation key of what the screen says ("checking with your
card…"); the app shows it over the screen and refuses touches until the answer is in.

Each session is a generation. ``forget`` (the session ended: card pulled, idle, finished) starts
the next one: an answer from an older generation is dropped, so a late answer from the old card
never touches the next villager's session, and its ``busy`` no longer shows. A job owns what it
was given (a PIN buffer is wiped by the job itself, whatever happens to its answer).

Until ``use_thread`` is called (the CLI, tests that drive the journey directly) a job runs at once
on the caller's thread and its answer is read before ``run`` returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from kiosk.identity import wipe

log = logging.getLogger(__name__)

T = TypeVar("T")

Post = Callable[[Callable[[], None]], None]
"""Runs a callable on the UI thread, soon (Kivy: ``Clock.schedule_once``)."""


class Answer(Generic[T]):
    """What a card job returned, or what it raised."""

    __slots__ = ("_error", "_value")

    def __init__(self, value: T | None = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def get(self) -> T:
        """The job's value; raises the job's exception instead when it raised one."""
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class CardWork:
    """The one way card operations run: in order, off the UI thread once ``use_thread`` is called."""

    def __init__(self) -> None:
        self._post: Post | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._generation = 0
        self._out: list[str | None] = []  # what each job of this generation whose answer is not in says
        self.busy: str | None = None  # what the screen says while a job of this generation is out
        self._listeners: list[Callable[[str | None], None]] = []

    def use_thread(self, post: Post) -> None:
        """From now on jobs run on the card thread and answers come back through ``post`` (the UI loop)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="card")
        self._post = post

    def subscribe(self, listener: Callable[[str | None], None]) -> None:
        """Call ``listener(busy)`` on the UI thread whenever ``busy`` changes."""
        self._listeners.append(listener)

    @property
    def idle(self) -> bool:
        """True when no answer of this session is awaited (a new card operation may start)."""
        return not self._out

    def run(self, job: Callable[[], T], then: Callable[[Answer[T]], None], *, say: str | None = "busy.card",
            secrets: tuple[bytearray | None, ...] = ()) -> None:
        """Run ``job`` on the card thread, then ``then(answer)`` on the UI thread — unless the session ended.

        ``say`` is what the screen shows meanwhile (None: nothing, and touches go on — a reader's own
        keypad is waiting for the PIN, and Cancel must still work). ``secrets`` (the PINs the job
        uses) are overwritten once the job is over, or skipped because its session ended first.
        """
        generation = self._generation
        self._out.append(say)
        self._set_busy(self._saying())
        if self._pool is None or self._post is None:
            self._deliver(generation, say, _answer_of(job, secrets), then)
            return
        post = self._post

        def on_card_thread() -> None:
            if generation != self._generation:  # its session ended before its turn: never run, nobody waits
                _wipe(secrets)
                return
            answer = _answer_of(job, secrets)
            post(lambda: self._deliver(generation, say, answer, then))

        self._pool.submit(on_card_thread)

    def forget(self) -> None:
        """The session ended: answers still on their way are dropped, and nothing is busy any more."""
        self._generation += 1
        self._out.clear()
        self._set_busy(None)

    def close(self) -> None:
        """Stop taking jobs (one in progress finishes on its own; its answer is dropped)."""
        self.forget()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, generation: int, say: str | None, answer: Answer[T], then: Callable[[Answer[T]], None]) -> None:
        if generation != self._generation:
            log.info("a card answer for an ended session was dropped")
            return
        if say in self._out:
            self._out.remove(say)
        self._set_busy(self._saying())
        then(answer)

    def _saying(self) -> str | None:
        return next((say for say in self._out if say is not None), None)

    def _set_busy(self, say: str | None) -> None:
        if say == self.busy:
            return
        self.busy = say
        for listener in list(self._listeners):
            listener(say)


def _answer_of(job: Callable[[], T], secrets: tuple[bytearray | None, ...]) -> Answer[T]:
    try:
        return Answer(job())
    except Exception as exc:  # noqa: BLE001 — handed back to the UI thread, where the journey sorts it
        return Answer(error=exc)
    finally:
        _wipe(secrets)


def _wipe(secrets: tuple[bytearray | None, ...]) -> None:
    for secret in secrets:
        wipe(secret)
