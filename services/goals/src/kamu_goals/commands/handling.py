"""How goal commands run, and who may do what to a goal.

A goal is visible to its owner, and to the owner's current Kamu while it is shared with them
(shared during their pairing); to anyone else it does not exist (404). Only the owner changes
it; the Kamu it is shared with may also review it (403 for other actions).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kamu_goals.domain.events import registry
from kamu_goals.read_models.state import apply
from kamu_goals.settings import GoalsSettings
from kamu_shared.auth.principal import Principal
from kamu_shared.commands import CommandHandling
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime

HANDLING = CommandHandling(registry=registry, apply=apply)


def settings_of(runtime: Runtime) -> GoalsSettings:
    assert isinstance(runtime.settings, GoalsSettings)
    return runtime.settings


OWNER_LOCK = "goals-colleague"


async def lock_owner(conn: Connection, owner_id: str) -> None:
    """Serialise sharing with the consumer of pairing-ended for one person: a share that read
    the Kamu of a pairing ending meanwhile is either unshared by it or refused (no-kamu).
    An advisory lock is not a write: the append is still the transaction's first."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", OWNER_LOCK, owner_id
    )


@dataclass(frozen=True)
class CurrentKamu:
    kamu_id: str
    since: datetime


async def current_kamu(conn: Connection, person_id: str) -> CurrentKamu | None:
    """The person's Kamu now, as learned from pairing's topic."""
    row = await conn.fetchrow(
        "SELECT kamu_id, since FROM goals_kamus WHERE colleague_id = $1", person_id
    )
    return CurrentKamu(row["kamu_id"], row["since"]) if row else None


async def goal_row(conn: Connection, goal_id: str) -> Any:
    return await conn.fetchrow("SELECT * FROM goals_goals WHERE goal_id = $1", goal_id)


async def role_of(conn: Connection, principal: Principal, row: Any) -> str | None:
    """``owner``, ``kamu`` (the owner's current Kamu, the goal shared during their pairing), or
    ``None``: the goal does not exist for them."""
    if principal.sub == row["owner_id"]:
        return "owner"
    if row["visibility"] != "kamu" or row["shared_with"] != principal.sub:
        return None
    kamu = await current_kamu(conn, row["owner_id"])
    if kamu is None or kamu.kamu_id != principal.sub or row["shared_at"] < kamu.since:
        return None
    return "kamu"
