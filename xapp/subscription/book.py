"""Bookkeeping of subscriptions: SubscriptionId -> E2 instance ids -> RMR sub_id.

The submgr's notification may arrive before the 201 answer to the POST that caused it,
so everything is keyed by SubscriptionId and either order completes the entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

from xapp.subscription.api import SubscriptionInstance, SubscriptionResponse


@dataclass
class SubscriptionEntry:
    subscription_id: str
    meid: str = ""
    ran_function_id: int = -1
    instances: list[SubscriptionInstance] = field(default_factory=list)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def sub_ids(self) -> list[int]:
        """The RMR sub_ids (E2EventInstanceIds) of the instances that were set up."""
        return [i.e2_event_instance_id for i in self.instances if not i.error_cause]

    @property
    def errors(self) -> list[str]:
        return [f"{i.error_source}: {i.error_cause}" for i in self.instances if i.error_cause]


class SubscriptionBook:
    """What this xApp has subscribed to, as the submgr told it."""

    def __init__(self) -> None:
        self._entries: dict[str, SubscriptionEntry] = {}

    def _entry(self, subscription_id: str) -> SubscriptionEntry:
        entry = self._entries.get(subscription_id)
        if entry is None:
            entry = self._entries[subscription_id] = SubscriptionEntry(subscription_id)
        return entry

    def accepted(self, response: SubscriptionResponse, meid: str,
                 ran_function_id: int) -> SubscriptionEntry:
        """Record the 201 answer to a POST."""
        entry = self._entry(response.subscription_id)
        entry.meid, entry.ran_function_id = meid, ran_function_id
        if response.subscription_instances:
            self._add_instances(entry, response.subscription_instances)
        return entry

    def notified(self, notification: SubscriptionResponse) -> SubscriptionEntry:
        """Record the submgr's callback (``POST /ric/v1/subscriptions/response``)."""
        entry = self._entry(notification.subscription_id)
        self._add_instances(entry, notification.subscription_instances or [])
        return entry

    @staticmethod
    def _add_instances(entry: SubscriptionEntry, instances: list[SubscriptionInstance]) -> None:
        known = {i.xapp_event_instance_id for i in entry.instances}
        entry.instances.extend(i for i in instances if i.xapp_event_instance_id not in known)
        if entry.instances:
            entry.confirmed.set()

    def forget(self, subscription_id: str) -> SubscriptionEntry | None:
        return self._entries.pop(subscription_id, None)

    def by_sub_id(self, sub_id: int) -> SubscriptionEntry | None:
        """The subscription an indication with RMR ``sub_id`` belongs to."""
        for entry in self._entries.values():
            if sub_id in entry.sub_ids:
                return entry
        return None

    def for_node(self, meid: str) -> list[SubscriptionEntry]:
        return [e for e in self._entries.values() if e.meid == meid]

    def __iter__(self) -> Iterator[SubscriptionEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)
