"""The events every contender writes or reads: one plan, generated before anything is timed.

A plan is a list of transactions. Transaction ``i`` appends ``size`` events to stream
``<prefix>-<i % streams>``, so a stream's versions follow from ``i`` alone and every contender
can be handed the same slice of the plan.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kamu_shared.events import DomainEvent, Envelope, EventRegistry
from kamu_shared.events.envelope import encode_json
from kamu_shared.store.records import Metadata, NewEvent, StreamAppend

STREAM_TYPE = "thing"
STREAMS = 100
METADATA = Metadata(correlation_id="bench-correlation", actor="bench-actor")

registry = EventRegistry("bench")


@registry.register
class ThingHappened(DomainEvent, name="thing-happened", version=1):
    """Something happened to a thing: a small event (about 55 bytes of JSON data)."""

    thing_id: str
    n: int
    label: str


@dataclass(frozen=True)
class PlannedEvent:
    """One event as every contender needs it: typed data, JSON bytes and identity."""

    event_id: uuid.UUID
    version: int
    event_type: str
    data: dict[str, Any]
    body: bytes
    occurred_at: datetime


@dataclass(frozen=True)
class PlannedTx:
    """The events of one transaction, all for one stream at a known version."""

    stream_id: str
    stream_uuid: uuid.UUID
    expected_version: int
    events: tuple[PlannedEvent, ...]

    def envelopes(self, source: str) -> list[Envelope]:
        """The envelopes the relay publishes for these events once they are stored."""
        return [
            Envelope(
                id=e.event_id,
                source=source,
                type=e.event_type,
                subject=self.stream_id,
                time=e.occurred_at,
                sequence=e.version,
                data=e.data,
                correlation_id=METADATA.correlation_id,
                actor=METADATA.actor,
            )
            for e in self.events
        ]


def _event(stream_id: str, version: int, now: datetime) -> PlannedEvent:
    event = ThingHappened(thing_id=stream_id, n=version, label=f"{stream_id} happened {version}")
    event_type, data = registry.encode(event, subject=stream_id)
    return PlannedEvent(uuid.uuid4(), version, event_type, data, encode_json(data), now)


def make_plan(prefix: str, transactions: int, size: int) -> list[PlannedTx]:
    """``transactions`` transactions of ``size`` events, round-robin over ``STREAMS`` streams."""
    now = datetime.now(UTC)
    plan = []
    for i in range(transactions):
        stream_id = f"{prefix}-{i % STREAMS:03d}"
        expected = (i // STREAMS) * size
        events = tuple(_event(stream_id, expected + k, now) for k in range(1, size + 1))
        stream_uuid = uuid.uuid5(uuid.NAMESPACE_URL, stream_id)
        plan.append(PlannedTx(stream_id, stream_uuid, expected, events))
    return plan


def stream_append(tx: PlannedTx) -> StreamAppend:
    """The transaction as the EventStore takes it."""
    events = [NewEvent(e.event_type, e.data, e.occurred_at, e.event_id) for e in tx.events]
    return StreamAppend(tx.stream_id, STREAM_TYPE, tx.expected_version, events)


def event_count(plan: list[PlannedTx], part: range) -> int:
    """How many events the transactions ``part`` of ``plan`` hold."""
    return sum(len(plan[i].events) for i in part)
