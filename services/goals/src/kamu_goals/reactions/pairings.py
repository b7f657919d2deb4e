"""What goals learns from ``kamu.pairing.events``: who is whose Kamu, and when that ends.

When a pairing ends, every goal the colleague shared with that Kamu becomes private again
(``goal-unshared``, ``cause: pairing-ended``), in the transaction that forgets the Kamu: a next
Kamu sees only what the colleague shares with them. Exactly once per event (the consumer's
ledger is in the same transaction).
"""

from kamu_goals.commands.goals import GOAL
from kamu_goals.commands.handling import HANDLING, lock_owner
from kamu_goals.domain import goals as rules
from kamu_goals.domain.inbound import PairingCreated, PairingEnded
from kamu_shared.commands import Append
from kamu_shared.consumer.messages import Delivery
from kamu_shared.consumer.processing import Handler
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime

GROUP = "goals.pairing-events"
ACTOR = "kamu-goals"


def handler(runtime: Runtime) -> Handler:
    async def handle(conn: Connection, delivery: Delivery) -> None:
        event = delivery.event
        if isinstance(event, PairingCreated):
            await lock_owner(conn, event.colleague_id)
            # Only a newer pairing replaces the current one, and never an ended one (pairings
            # of one colleague have different keys: they arrive in any order).
            await conn.execute(
                """INSERT INTO goals_kamus (colleague_id, kamu_id, pairing_id, since)
                   SELECT $1, $2, $3, $4
                   WHERE NOT EXISTS (SELECT 1 FROM goals_ended_pairings WHERE pairing_id = $3)
                   ON CONFLICT (colleague_id) DO UPDATE SET kamu_id = EXCLUDED.kamu_id,
                       pairing_id = EXCLUDED.pairing_id, since = EXCLUDED.since
                   WHERE goals_kamus.since < EXCLUDED.since""",
                event.colleague_id,
                event.kamu_id,
                event.pairing_id,
                delivery.envelope.time,
            )
        elif isinstance(event, PairingEnded):
            await lock_owner(conn, event.colleague_id)
            await _unshare_all(conn, runtime, event)
            await conn.execute(
                "DELETE FROM goals_kamus WHERE colleague_id = $1 AND pairing_id = $2",
                event.colleague_id,
                event.pairing_id,
            )
            await conn.execute(
                "INSERT INTO goals_ended_pairings (pairing_id, ended_at) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING",
                event.pairing_id,
                delivery.envelope.time,
            )

    return handle


async def _unshare_all(conn: Connection, runtime: Runtime, e: PairingEnded) -> None:
    """One append for every goal shared with the Kamu of the ended pairing (the first write),
    but not those shared during a later pairing with the same Kamu."""
    shared = await conn.fetch(
        """SELECT goal_id FROM goals_goals g
           WHERE owner_id = $1 AND visibility = 'kamu' AND shared_with = $2
             AND NOT EXISTS (SELECT 1 FROM goals_kamus k
                             WHERE k.colleague_id = $1 AND k.kamu_id = $2
                               AND k.pairing_id <> $3 AND g.shared_at >= k.since)
           ORDER BY goal_id""",
        e.colleague_id,
        e.kamu_id,
        e.pairing_id,
    )
    appends: list[Append] = []
    for row in shared:
        loaded = await HANDLING.load(runtime.store, GOAL, row["goal_id"], conn=conn)
        command = rules.UnshareGoal(row["goal_id"], cause="pairing-ended")
        events = rules.decide_unshare(loaded.state, command)
        appends.append((GOAL.stream(row["goal_id"]), GOAL, events, loaded.version))
    await HANDLING.record(conn, runtime.store, appends, actor=ACTOR)
