"""How a command runs: load the aggregate, check If-Match, decide, append, update state tables.

The append is the transaction's first write (the event store's rule); the service's state
tables follow in the same transaction, so a refusal by their constraints (a racing command
that got there first) rolls the events back too. Commands run from HTTP requests, consumer
handlers and timers alike; only the actor differs.
"""

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import structlog

from kamu_shared.commands.errors import NotFoundError, RuleViolated
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.store.aggregates import Loaded, load, new_event
from kamu_shared.store.eventstore import EventStore
from kamu_shared.store.records import Metadata, StreamAppend
from kamu_shared.web.errors import Conflict, NotFound
from kamu_shared.web.etag import check_if_match

S = TypeVar("S")
C = TypeVar("C")

StateApply = Callable[[Connection, DomainEvent, int, datetime], Awaitable[None]]
"""Brings a service's state tables up to date with one event of a stream at a version."""


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How to load one kind of aggregate: its stream naming, type, initial state and evolve."""

    stream_type: str
    initial: S
    evolve: Callable[[S, DomainEvent], S]

    def stream(self, aggregate_id: str) -> str:
        return f"{self.stream_type}-{aggregate_id}"


Append = tuple[str, Aggregate[Any], Sequence[DomainEvent], int | None]
"""(stream id, its aggregate, the events, the expected version) for one multi-stream append."""


@dataclass(frozen=True)
class Decision(Generic[S]):
    """An aggregate after a command: its new state and version, and what was recorded."""

    state: S
    version: int
    events: Sequence[DomainEvent]


@contextmanager
def rule_errors() -> Iterator[None]:
    """The domain's refusals as problems: 409 with the rule's slug, 404 for what is missing."""
    try:
        yield
    except RuleViolated as exc:
        raise Conflict(exc.detail, slug=exc.slug) from exc
    except NotFoundError as exc:
        raise NotFound(f"{exc} not found") from exc


def _no_extra_errors() -> AbstractContextManager[None]:
    return rule_errors()


@dataclass(frozen=True)
class CommandHandling:
    """One service's way of running commands: its events, its state tables, its refusals."""

    registry: EventRegistry
    apply: StateApply
    # Maps the service's own refusals (a state table's constraint, say) to problems; the
    # domain's RuleViolated and NotFoundError are always mapped.
    errors: Callable[[], AbstractContextManager[None]] = field(default=_no_extra_errors)

    @contextmanager
    def refusals(self) -> Iterator[None]:
        with rule_errors(), self.errors():
            yield

    async def load(
        self,
        store: EventStore,
        aggregate: Aggregate[S],
        aggregate_id: str,
        *,
        conn: Connection | None = None,
    ) -> Loaded[S]:
        """The aggregate's current state and version (on ``conn`` inside a command)."""
        stream = aggregate.stream(aggregate_id)
        return await load(
            store, self.registry, stream, aggregate.initial, aggregate.evolve, conn=conn
        )

    async def decide_and_record(
        self,
        conn: Connection,
        store: EventStore,
        aggregate: Aggregate[S],
        aggregate_id: str,
        decide: Callable[[S, C], Sequence[DomainEvent]],
        command: C,
        *,
        actor: str,
        if_match: str | None = None,
        also: Callable[[S], Sequence[Append]] | None = None,
    ) -> Decision[S]:
        """Load, check If-Match, decide, and append; nothing is written if nothing was decided."""
        stream = aggregate.stream(aggregate_id)
        loaded = await self.load(store, aggregate, aggregate_id, conn=conn)
        if if_match is not None:
            check_if_match(if_match, loaded.version)
        with self.refusals():
            events = list(decide(loaded.state, command))
        appends: list[Append] = [(stream, aggregate, events, loaded.version)]
        if also is not None:
            with self.refusals():
                appends += list(also(loaded.state))
        await self.record(conn, store, appends, actor=actor)
        state = loaded.state
        for event in events:
            state = aggregate.evolve(state, event)
        return Decision(state, loaded.version + len(events), events)

    async def record(
        self, conn: Connection, store: EventStore, appends: Sequence[Append], *, actor: str
    ) -> None:
        """Append to every stream at once, then apply each event to the state tables."""
        now = datetime.now(UTC)
        batch = [
            StreamAppend(
                stream,
                aggregate.stream_type,
                expected,
                [new_event(self.registry, e, subject=stream, occurred_at=now) for e in events],
            )
            for stream, aggregate, events, expected in appends
            if events
        ]
        if not batch:
            return
        context = structlog.contextvars.get_contextvars()
        metadata = Metadata(correlation_id=context.get("correlation_id"), actor=actor)
        recorded = await store.append(batch, metadata, conn=conn)
        events = [e for _, _, evs, _ in appends for e in evs]
        with self.refusals():
            for event, stored in zip(events, recorded, strict=True):
                await self.apply(conn, event, stored.version, stored.recorded_at)
