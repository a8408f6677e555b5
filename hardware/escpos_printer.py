"""``EscposReceiptPrinter``: receipts on a real ESC/POS printer over USB, serial, TCP or a file.

python-escpos opens the device and moves bytes (its printer classes rest on ``_raw``); on top
we add what a kiosk needs: a real-time status query (``DLE EOT``) with a short timeout before
every receipt, the whole receipt in one write, a check afterwards that the printer still
answers, and typed errors (``PrinterOffline``, ``PaperOut``, ``CoverOpen``) instead of a
60-second hang. The device is opened for each query and each receipt, so a printer that was
switched off and on again, or a dropped network connection, needs no restart of the kiosk.

``open_printer(uri, profile)`` picks the transport from the URI's scheme
(``hardware.escpos_transports``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hardware.escpos_encoding import check_mode, encode_receipt
from hardware.escpos_status import (
    QUERIES,
    QUERY_PRINTER,
    StatusReply,
    error_for,
    is_status_byte,
    query,
)
from hardware.escpos_transports import LINK_ERRORS, Link, transport_for
from hardware.printer_profiles import PrinterProfile
from kiosk.errors import PrinterOffline
from kiosk.ports import PaperState, PrinterStatus, ReceiptPrinter

if TYPE_CHECKING:
    from kiosk.ports import Receipt

log = logging.getLogger(__name__)

STATUS_TIMEOUT_S = 1.0
"""How long a printer may take to answer a status query (python-escpos's TCP default is 60 s)."""

class EscposReceiptPrinter:
    """A ``ReceiptPrinter`` on a python-escpos device: status first, one write, typed errors."""

    def __init__(
        self,
        connect: Callable[[], Link],
        profile: PrinterProfile,
        *,
        mode: str = "raster",
        status_timeout_s: float = STATUS_TIMEOUT_S,
        answers_status: bool = True,
        name: str = "printer",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        check_mode(mode)
        self.profile = profile
        self.mode = mode
        self.name = name
        self._connect = connect
        self._status_timeout_s = status_timeout_s
        self._answers_status = answers_status
        self._monotonic = monotonic
        self._lock = threading.Lock()  # the heartbeat may ask for status while a receipt prints

    def status(self) -> PrinterStatus:
        """Ask the printer (``DLE EOT 1, 2, 4``); no answer within the timeout means offline.

        A device file can't answer: it is assumed online and not even opened.
        """
        if not self._answers_status:
            return PrinterStatus(online=True)
        with self._lock:
            try:
                with self._opened() as link:
                    return self._ask(link).status()
            except LINK_ERRORS as exc:
                log.info("%s: no status: %s", self.name, exc)
                return PrinterStatus(online=False)

    def print_receipt(self, receipt: Receipt) -> None:
        """Print ``receipt`` or raise ``PrinterOffline``, ``PaperOut`` or ``CoverOpen``.

        Nothing is sent unless the printer says it is ready; a connection lost during the
        receipt, or a printer silent after it, is ``PrinterOffline`` (reprint it).
        """
        data = encode_receipt(receipt, self.profile, self.mode)
        with self._lock:
            try:
                with self._opened() as link:
                    if self._answers_status:
                        status = self._ask(link).status()
                        error = error_for(status)
                        if error is not None:
                            raise error
                        if status.paper is PaperState.NEAR_END:
                            log.warning("%s: paper near its end; change the roll soon", self.name)
                    job_timeout_s = self._status_timeout_s + link.seconds_for(len(data))
                    link.write(data, job_timeout_s)
                    if self._answers_status and not self._still_answers(link, job_timeout_s):
                        raise PrinterOffline()
            except LINK_ERRORS as exc:
                log.warning("%s: receipt %s not printed: %s", self.name, receipt.receipt_no, exc)
                raise PrinterOffline() from exc

    # -- talking to the device ---------------------------------------------------------------

    @contextmanager
    def _opened(self) -> Iterator[Link]:
        link = self._connect()
        link.open()
        try:
            yield link
        finally:
            link.close()

    def _ask(self, link: Link) -> StatusReply:
        """DLE EOT 1, 2 and 4, all within one status timeout; stops at the first silence."""
        deadline = self._monotonic() + self._status_timeout_s
        answers: dict[int, int] = {}
        for n in QUERIES:
            link.write(query(n), self._status_timeout_s)
            answer = self._answer(link, deadline)
            if answer is None:
                break
            answers[n] = answer
        return StatusReply(*(answers.get(n) for n in QUERIES))

    def _still_answers(self, link: Link, timeout_s: float) -> bool:
        """Whether the printer answers after the receipt: its answer queues behind the bytes,
        so silence means they were lost on the way (printer unplugged mid-receipt)."""
        link.write(query(QUERY_PRINTER), timeout_s)
        return self._answer(link, self._monotonic() + timeout_s) is not None

    def _answer(self, link: Link, deadline: float) -> int | None:
        """The next status byte before ``deadline``, skipping anything that isn't one."""
        while (left := deadline - self._monotonic()) > 0:
            chunk = link.read(left)
            if not chunk:
                return None
            answers = [value for value in chunk if is_status_byte(value)]
            if answers:
                return answers[-1]
        return None


def open_printer(
    uri: str,
    profile: PrinterProfile,
    *,
    mode: str = "raster",
    status_timeout_s: float = STATUS_TIMEOUT_S,
) -> ReceiptPrinter:
    """The printer at ``uri``; ``ValueError`` says what is wrong with a URI or a missing library.

    Nothing is opened yet: the device is opened for each status query and each receipt.
    """
    check_mode(mode)
    transport = transport_for(uri, status_timeout_s)
    return EscposReceiptPrinter(
        transport.connect,
        profile,
        mode=mode,
        status_timeout_s=status_timeout_s,
        answers_status=transport.answers_status,
        name=uri,
    )
