"""Replaying a service's event store into its state tables (their rebuild)."""

from collections.abc import Callable

from kamu_shared.commands.handling import StateApply
from kamu_shared.db.pool import Connection
from kamu_shared.events import EventRegistry


async def replay_store(
    conn: Connection,
    registry: EventRegistry,
    apply: StateApply,
    progress: Callable[[int], None] | None = None,
    *,
    batch: int = 1000,
) -> int:
    """Apply every stored event in position order on ``conn``; returns how many were applied.

    The caller owns the transaction and has emptied (and locked) the tables first.
    """
    applied = 0
    after = 0
    while rows := await conn.fetch(
        "SELECT position, stream_id, version, event_type, data, recorded_at FROM kamu_events "
        "WHERE position > $1 ORDER BY position LIMIT $2",
        after,
        batch,
    ):
        for row in rows:
            event = registry.decode(row["event_type"], row["data"], subject=row["stream_id"])
            if event is not None:
                await apply(conn, event, row["version"], row["recorded_at"])
                applied += 1
        after = rows[-1]["position"]
        if progress:
            progress(applied)
    return applied
