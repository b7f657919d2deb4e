"""Pairings as the state tables hold them, and who may see which part of one."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kamu_pairing.commands.access import administers
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection


class PairingOut(BaseModel):
    """A pairing. ``message`` only for its two people; ``change_requested`` never for the Kamu."""

    id: str
    colleague_id: str
    kamu_id: str
    status: str
    cadence_weeks: int | None
    meeting_minutes: int | None
    requested_by: str
    requested_at: datetime
    updated_at: datetime
    message: str | None = None
    change_requested: bool | None = None


async def pairing_row(conn: Connection, pairing_id: str) -> Any:
    return await conn.fetchrow("SELECT * FROM pairing_pairings WHERE pairing_id = $1", pairing_id)


def visible(principal: Principal, row: Any) -> bool:
    return principal.sub in (row["colleague_id"], row["kamu_id"]) or administers(principal)


def shown(principal: Principal, row: Any) -> PairingOut:
    """The pairing as this caller may see it (DESIGN: privacy and psychological safety)."""
    party = principal.sub in (row["colleague_id"], row["kamu_id"])
    is_colleague = principal.sub == row["colleague_id"]
    # Confidential: the current Kamu is not told until the pairing ends (issue 4, DESIGN).
    sees_change = is_colleague or (administers(principal) and principal.sub != row["kamu_id"])
    return PairingOut(
        id=row["pairing_id"],
        colleague_id=row["colleague_id"],
        kamu_id=row["kamu_id"],
        status=row["status"],
        cadence_weeks=row["cadence_weeks"],
        meeting_minutes=row["meeting_minutes"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        updated_at=row["updated_at"],
        message=row["message"] if party else None,
        change_requested=row["change_requested"] if sees_change else None,
    )
