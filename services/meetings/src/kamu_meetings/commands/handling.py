"""How meeting commands run, and the one lock that keeps a pairing's meetings consistent.

Every write that touches a pairing's meetings or its cadence clock (a command, the consumer of
pairing-ended, the overdue timer) first takes the pairing's transaction-scoped advisory lock
and then reads the pairing. So a meeting scheduled while the pairing ends is either cancelled
with the others or refused, and a lapse is never recorded against a clock a held meeting just
reset. Advisory locks are not writes: the command's append is still its first write.
"""

from dataclasses import dataclass

from kamu_meetings.domain.events import registry
from kamu_meetings.domain.meetings import Pair
from kamu_meetings.read_models.state import apply
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.commands import CommandHandling
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime

HANDLING = CommandHandling(registry=registry, apply=apply)
PAIRING_LOCK = "meetings-pairing"


def settings_of(runtime: Runtime) -> MeetingsSettings:
    assert isinstance(runtime.settings, MeetingsSettings)
    return runtime.settings


async def lock_pairing(conn: Connection, pairing_id: str) -> None:
    """Serialise every write about one pairing's meetings (waits for the holder)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", PAIRING_LOCK, pairing_id
    )


@dataclass(frozen=True)
class PairingFacts:
    pair: Pair
    cadence_weeks: int


async def pairing_facts(conn: Connection, pairing_id: str) -> PairingFacts | None:
    """The pairing as learned from pairing's topic, or ``None`` if not heard of yet."""
    row = await conn.fetchrow(
        "SELECT colleague_id, kamu_id, status, cadence_weeks FROM meetings_pairings "
        "WHERE pairing_id = $1",
        pairing_id,
    )
    if row is None:
        return None
    pair = Pair(pairing_id, row["colleague_id"], row["kamu_id"], row["status"] == "active")
    return PairingFacts(pair, row["cadence_weeks"])
