"""How every pairing command runs: the shared command handling with pairing's state tables.

The state tables' constraints hold the cross-aggregate rules when requests race (a Kamu's last
place, a colleague's one Kamu); their refusals become the same problems as the domain's.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import asyncpg

from kamu_pairing.domain.events import registry
from kamu_pairing.read_models.state import CapacityExceeded, apply
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.principal import Principal
from kamu_shared.commands import Aggregate, Append, CommandHandling, Decision
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime, RuntimeDep
from kamu_shared.web.errors import Conflict

__all__ = ["Aggregate", "Append", "Decision", "RuntimeDep", "decide_and_record", "settings_of"]

S = TypeVar("S")
C = TypeVar("C")


def settings_of(runtime: Runtime) -> PairingSettings:
    assert isinstance(runtime.settings, PairingSettings)
    return runtime.settings


@contextmanager
def state_refusals() -> Iterator[None]:
    """What the state tables refuse under a race, as the problems the domain would give."""
    try:
        yield
    except CapacityExceeded as exc:
        if exc.retired:
            raise Conflict(f"{exc} has retired as a Kamu", slug="kamu-retired") from exc
        raise Conflict(f"{exc} has no free place or hours left", slug="kamu-at-capacity") from exc
    except asyncpg.UniqueViolationError as exc:
        if "pairing_one_active_kamu" in str(exc):
            raise Conflict("the colleague already has a Kamu", slug="already-paired") from exc
        raise


HANDLING = CommandHandling(registry=registry, apply=apply, errors=state_refusals)


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
    return await HANDLING.decide_and_record(
        conn,
        runtime.store,
        aggregate,
        aggregate_id,
        decide,
        command,
        actor=principal.sub,
        if_match=if_match,
        also=also,
    )
