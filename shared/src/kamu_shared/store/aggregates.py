"""From domain events to stored events and back: the bridge between a service's pure domain
(``decide(state, command) -> events``, ``evolve(state, event) -> state``) and the store."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.store.eventstore import EventStore
from kamu_shared.store.records import NewEvent, RecordedEvent

S = TypeVar("S")


def new_event(
    registry: EventRegistry,
    event: DomainEvent,
    *,
    subject: str,
    occurred_at: datetime,
    event_id: uuid.UUID | None = None,
) -> NewEvent:
    """A domain event encoded for the store: wire type, JSON data (personal fields protected
    by the registry's protector) and the schema URI that becomes ``ce_dataschema``."""
    ce_type, data = registry.encode(event, subject=subject)
    return NewEvent(
        event_type=ce_type,
        data=data,
        occurred_at=occurred_at,
        event_id=event_id or uuid.uuid4(),
        dataschema=registry.dataschema(type(event)),
    )


def decode_stream(registry: EventRegistry, recorded: Sequence[RecordedEvent]) -> list[DomainEvent]:
    """Stored events as current-version domain events (older versions upcast on the way)."""
    events = []
    for stored in recorded:
        event = registry.decode(stored.event_type, stored.data, subject=stored.stream_id)
        if event is None:
            raise ValueError(f"{stored.stream_id}@{stored.version}: unknown {stored.event_type}")
        events.append(event)
    return events


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """An aggregate's state and the stream version it reflects (the ETag, the expected version)."""

    state: S
    version: int


async def load(
    store: EventStore,
    registry: EventRegistry,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, DomainEvent], S],
    *,
    conn: Connection | None = None,
) -> Loaded[S]:
    """Rebuild an aggregate by folding its whole stream (no snapshots until a benchmark asks)."""
    recorded = await store.read_stream(stream_id, conn=conn)
    state = initial
    for event in decode_stream(registry, recorded):
        state = evolve(state, event)
    return Loaded(state, recorded[-1].version if recorded else 0)
