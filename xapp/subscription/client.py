"""An asyncio client for the Subscription Manager REST API, with retry and backoff.

The client only speaks HTTP; what to subscribe to and when to resubscribe is decided by
the caller. Failures are typed so the caller can tell "try again later" (503, network)
from "this request is wrong" (400/404/500 with a body).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from xapp.subscription.api import (
    SUBSCRIPTIONS_PATH,
    SubscriptionData,
    SubscriptionParams,
    SubscriptionResponse,
    parse,
    to_wire,
)

T = TypeVar("T")


class SubmgrError(Exception):
    """The Subscription Manager did not accept a request."""


class SubmgrUnavailable(SubmgrError):
    """Transient: 503 (E2 link down), a connection failure or a time-out. Retry later."""


class SubmgrRejected(SubmgrError):
    """Permanent for this request: the submgr answered 4xx/5xx (not 503)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"submgr answered {status}: {body[:200]}")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: delay_n = U(0, min(cap, initial * factor**n))."""

    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_s, self.initial_s * self.factor**attempt))


async def retry(operation: Callable[[], Awaitable[T]], backoff: Backoff, attempts: int,
                rng: random.Random | None = None) -> T:
    """Run ``operation`` until it succeeds, retrying only :class:`SubmgrUnavailable`."""
    rng = rng or random.Random()
    for attempt in range(attempts):
        try:
            return await operation()
        except SubmgrUnavailable:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(backoff.delay(attempt, rng))
    raise AssertionError("unreachable: attempts must be >= 1")


class SubmgrClient:
    """``POST``/``DELETE``/``GET`` on ``http://host:port/ric/v1/subscriptions``."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession,
                 timeout_s: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + SUBSCRIPTIONS_PATH
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def subscribe(self, params: SubscriptionParams) -> SubscriptionResponse:
        body = await self._request("POST", self._url, to_wire(params), expect=(200, 201))
        return parse(SubscriptionResponse, body)

    async def unsubscribe(self, subscription_id: str) -> None:
        """Delete a subscription; one the submgr no longer knows counts as deleted."""
        await self._request("DELETE", f"{self._url}/{subscription_id}", None,
                            expect=(200, 204, 404))

    async def list(self) -> list[SubscriptionData]:
        body = await self._request("GET", self._url, None, expect=(200,))
        if not isinstance(body, list):
            raise SubmgrRejected(200, f"expected a JSON list, got {type(body).__name__}")
        return [parse(SubscriptionData, item) for item in body]

    async def _request(self, method: str, url: str, payload: object,
                       expect: tuple[int, ...]) -> object:
        try:
            async with self._session.request(method, url, json=payload,
                                             timeout=self._timeout) as response:
                text = await response.text()
                if response.status == 503:
                    raise SubmgrUnavailable(f"{method} {url}: 503 {text[:200]}")
                if response.status not in expect:
                    raise SubmgrRejected(response.status, text)
                if not text or response.status in (204, 404):
                    return None
                try:
                    return await response.json(content_type=None)
                except ValueError as exc:
                    raise SubmgrRejected(response.status, f"invalid JSON: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SubmgrUnavailable(f"{method} {url}: {exc!r}") from exc
