"""How every pairing command runs: load the aggregate, decide, append, update the state tables.

The append is the transaction's first write (the event store's rule); the state tables follow in
the same transaction, so a refusal by their constraints (a Kamu's last place taken by a racing
acceptance, a colleague paired meanwhile) rolls the events back too.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import asyncpg
import structlog
from fastapi import Depends, Request

from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import registry
from kamu_pairing.read_models.state import CapacityExceeded, apply
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime
from kamu_shared.store.aggregates import load, new_event
from kamu_shared.store.records import Metadata, StreamAppend
from kamu_shared.web.errors import Conflict, NotFound
from kamu_shared.web.etag import check_if_match

S = TypeVar("S")
C = TypeVar("C")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def settings_of(runtime: Runtime) -> PairingSettings:
    assert isinstance(runtime.settings, PairingSettings)
    return runtime.settings


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How to load one kind of aggregate: its stream naming, type, initial state and evolve."""

    stream_type: str
    initial: S
    evolve: Callable[[S, DomainEvent], S]

    def stream(self, aggregate_id: str) -> str:
        return f"{self.stream_type}-{aggregate_id}"


Append = tuple[str, Aggregate[Any], Sequence[DomainEvent], int]
"""(stream id, its aggregate, the events, the expected version) for one multi-stream append."""


@dataclass(frozen=True)
class Decision(Generic[S]):
    """An aggregate after a command: its new state and version, and what was recorded."""

    state: S
    version: int
    events: Sequence[DomainEvent]


async def decide_and_record(
    conn: Connection,
    runtime: Runtime,
    aggregate: Aggregate[S],
    aggregate_id: str,
    decide: Callable[[S, C], Sequence[DomainEvent]],
    command: C,
    *,
    principal: Principal,
    if_match: str | None = None,
    also: Callable[[S], Sequence[Append]] | None = None,
) -> Decision[S]:
    """Load, check If-Match, decide, and append; nothing is written if the decision is empty."""
    stream = aggregate.stream(aggregate_id)
    loaded = await load(runtime.store, registry, stream, aggregate.initial, aggregate.evolve)
    if if_match is not None:
        check_if_match(if_match, loaded.version)
    with domain_errors():
        events = list(decide(loaded.state, command))
    appends: list[Append] = [(stream, aggregate, events, loaded.version)]
    if also is not None:
        appends += list(also(loaded.state))
    await record(conn, runtime, appends, principal)
    state = loaded.state
    for event in events:
        state = aggregate.evolve(state, event)
    return Decision(state, loaded.version + len(events), events)


async def record(
    conn: Connection,
    runtime: Runtime,
    appends: Sequence[Append],
    principal: Principal,
) -> None:
    """Append to every stream at once, then apply each event to the state tables."""
    now = datetime.now(UTC)
    batch = [
        StreamAppend(
            stream,
            aggregate.stream_type,
            expected,
            [new_event(registry, e, subject=stream, occurred_at=now) for e in events],
        )
        for stream, aggregate, events, expected in appends
        if events
    ]
    if not batch:
        return
    context = structlog.contextvars.get_contextvars()
    metadata = Metadata(correlation_id=context.get("correlation_id"), actor=principal.sub)
    recorded = await runtime.store.append(batch, metadata, conn=conn)
    events = [e for _, _, evs, _ in appends for e in evs]
    with domain_errors():
        for event, stored in zip(events, recorded, strict=True):
            await apply(conn, event, stored.version, stored.recorded_at)


@contextmanager
def domain_errors() -> Iterator[None]:
    """The domain's refusals as problems: 409 with the rule's slug, 404 for what is missing."""
    try:
        yield
    except RuleViolated as exc:
        raise Conflict(exc.detail, slug=exc.slug) from exc
    except NotFoundError as exc:
        raise NotFound(f"{exc} not found") from exc
    except CapacityExceeded as exc:
        if exc.retired:
            raise Conflict(f"{exc} has retired as a Kamu", slug="kamu-retired") from exc
        raise Conflict(f"{exc} has no free place or hours left", slug="kamu-at-capacity") from exc
    except asyncpg.UniqueViolationError as exc:
        if "pairing_one_active_kamu" in str(exc):
            raise Conflict("the colleague already has a Kamu", slug="already-paired") from exc
        raise
