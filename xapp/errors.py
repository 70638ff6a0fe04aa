"""The one family of errors for input that cannot be understood.

Every decoder in the project (RMR frames, route tables, E2AP, E2SM-KPM, the CSI service
model, recommendations, configuration) raises a subclass of :class:`MalformedInput` and
nothing else for bad bytes. Callers count ``error.reason`` and carry on.
"""

from __future__ import annotations


class MalformedInput(Exception):
    """Input that does not decode into a valid typed message.

    Attributes:
        source: which codec or parser refused it (``"rmr.frame"``, ``"e2ap"``, ...).
        reason: a short stable code for counting (``"truncated"``, ``"missing_ie"``, ...).
        detail: a human-readable explanation of what was wrong.
    """

    source = "input"

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.source}: {reason}" + (f": {detail}" if detail else ""))


class EncodeError(Exception):
    """A typed message that cannot be encoded (a value out of range, a missing field)."""
