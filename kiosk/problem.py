"""What to tell the person: a translation key and the values its message shows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """Something to tell the person: a translation key and its parameters."""

    key: str
    params: dict[str, object] = field(default_factory=dict)
