"""How the service buttons are cut into pages, and the fee-and-time line under each title (no Kivy here)."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.receipts import format_fee
from protocol.catalogue import Service


def fee_text(service: Service, t: Callable[..., str]) -> str:
    """The fee in lari, or "free"."""
    return format_fee(service.fee) if service.fee else t("services.free")


def time_text(service: Service, t: Callable[..., str]) -> str:
    """The processing time in words: "same day", "1 working day", "10 working days"."""
    days = service.processing_days
    if days == 0:
        return t("services.same_day")
    return t("services.days", days=days)


def service_detail(service: Service, t: Callable[..., str]) -> str:
    """The line under a service's title: ``5.00 ₾  ·  10 days``."""
    return f"{fee_text(service, t)}  ·  {time_text(service, t)}"


def row_heights(needs: list[float], cols: int) -> list[float]:
    """Each row's height: the tallest need among its cells."""
    return [max(needs[i:i + cols]) for i in range(0, len(needs), cols)]


def fits(needs: list[float], cols: int, room: float, gap: float) -> bool:
    """True when cells needing ``needs`` fit in ``room``, ``cols`` to a row."""
    rows = row_heights(needs, cols)
    return sum(rows) + gap * (len(rows) - 1) <= room


def paginate(needs: list[float], arrow: float, cols: int, room: float, gap: float) -> list[tuple[int, int]]:
    """The ``[start, end)`` range of services on each page: as many as fit in ``room``.

    ``needs`` are the services' heights, ``arrow`` the arrows' height: an arrow takes a place at
    the end of every page but the last ("more services") and at the start of every page but
    the first ("previous"). A service too tall for any page still gets one to itself.
    """
    pages: list[tuple[int, int]] = []
    start = 0
    while start < len(needs) or not pages:
        before = [arrow] if start else []
        end = len(needs)
        while end > start + 1:
            after = [arrow] if end < len(needs) else []
            if fits(before + needs[start:end] + after, cols, room, gap):
                break
            end -= 1
        pages.append((start, end))
        start = end
    return pages


def stretch(rows: list[float], room: float, gap: float, most: float) -> list[float]:
    """Rows grown evenly towards filling ``room``, none past ``most`` unless it already needs more."""
    if not rows:
        return []
    share = (room - gap * (len(rows) - 1)) / len(rows)
    grown = [max(h, min(share, most)) for h in rows]
    return grown if sum(grown) + gap * (len(rows) - 1) <= room else rows
