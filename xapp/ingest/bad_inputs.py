"""Counting and rate-limited logging of inputs the xApp could not use.

Every refusal is a :class:`~xapp.errors.MalformedInput` with a ``source`` and a stable
``reason``; they are counted per (source, reason) for metrics, and logged at most once per
``log_interval_s`` per (source, reason) with the number suppressed since, so a node that
floods garbage cannot flood the log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from xapp.errors import MalformedInput

log = logging.getLogger(__name__)


class BadInputs:
    """Counter of refused inputs by ``(source, reason)``, with rate-limited logging."""

    def __init__(self, log_interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._interval = log_interval_s
        self._clock = clock
        self._last_logged: dict[tuple[str, str], float] = {}
        self._suppressed: Counter[tuple[str, str]] = Counter()

    def record(self, error: MalformedInput, context: str = "") -> None:
        """Count ``error``; log it unless the same kind was logged within the interval."""
        key = (error.source, error.reason)
        self.counts[key] += 1
        now = self._clock()
        last = self._last_logged.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] += 1
            return
        self._last_logged[key] = now
        suppressed = self._suppressed.pop(key, 0)
        log.warning("bad input%s: %s%s", f" ({context})" if context else "", error,
                    f" [{suppressed} similar suppressed]" if suppressed else "")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_reason(self) -> dict[str, int]:
        """``"source:reason" -> count``, JSON-able."""
        return {f"{s}:{r}": n for (s, r), n in sorted(self.counts.items())}
