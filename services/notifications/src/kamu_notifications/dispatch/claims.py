"""Claiming due deliveries, marking them handed over, and recording how each went.

A claim marks deliveries ``sending`` with a token and a lease, and commits before anything is
sent: another dispatcher (another replica) skips them. Right before a message leaves (email:
before SMTP DATA; HTTP: before the request) the claim's holder marks it handed over
(:func:`handed_over`) and commits that too. Each outcome is recorded in a transaction of its
own, only while the claim is still the recorder's (its advisory lock orders two recorders of
one delivery), with the outcome event appended first, and clears the mark.

A dispatcher that dies leaves its claims to expire; claimed again, a delivery without the mark
was never handed over and is simply sent (``interrupted``); one with the mark is ``in_doubt``:
the message may have arrived. What happens to it depends on the channel
(:func:`kamu_notifications.domain.steps.next_step`): sent again with the same id where
receivers de-duplicate by it (webhooks), recorded failed and not sent again elsewhere.
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from kamu_notifications.domain.events import (
    Channel,
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
)
from kamu_notifications.planning import ACTOR
from kamu_notifications.state import HANDLING, NOTIFICATION
from kamu_shared.commands import Append
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime

log = structlog.get_logger("kamu.notifications.dispatch")
OUTCOMES = Counter(
    "kamu_notification_outcomes_total",
    "Delivery attempts by channel and outcome (sent, failed, retry, deferred, suppressed,"
    " fallback), counted once the outcome committed",
    ["channel", "outcome"],
)
"""Both labels are closed sets: five channels, the outcomes above (the alerts read them)."""

CLAIM = """
WITH due AS (
    SELECT notification_id, channel, endpoint, due_at, status, recipient_id, deferred_by,
           digest_id, handed_over_at
    FROM notifications_deliveries d
    WHERE ((status = 'pending' AND due_at <= now())
           OR (status = 'sending' AND claimed_until < now()))
      AND endpoint <> ALL($1::text[])
      -- a thread's messages in order: an invitation never overtaken by its cancellation
      AND (thread IS NULL OR NOT EXISTS (
          SELECT 1 FROM notifications_deliveries earlier
          WHERE earlier.thread = d.thread AND earlier.recipient_id = d.recipient_id
            AND earlier.channel = d.channel AND earlier.status IN ('pending', 'sending')
            AND (earlier.thread_seq, earlier.created_at) < (d.thread_seq, d.created_at)))
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), ranked AS (
    SELECT due.*, row_number() OVER (PARTITION BY endpoint ORDER BY due_at) AS n,
           -- one delivery leads each digest (it gathers the others when it is sent)
           row_number() OVER (PARTITION BY recipient_id, channel,
                                           deferred_by = 'digest' OR digest_id IS NOT NULL,
                                           coalesce(digest_id::text, '')
                              ORDER BY due_at) AS leader
    FROM due
), chosen AS (
    SELECT ranked.* FROM ranked
    LEFT JOIN jsonb_each_text($3::jsonb) busy ON busy.key = ranked.endpoint
    -- the inbox is a row of ours, not a remote endpoint: only the dispatcher's room limits it
    WHERE ranked.n + coalesce(busy.value::int, 0)
          <= CASE WHEN ranked.endpoint = 'inapp' THEN $5::int ELSE $4::int END
      AND (ranked.leader = 1
           OR (ranked.deferred_by IS DISTINCT FROM 'digest' AND ranked.digest_id IS NULL))
    ORDER BY due_at
    LIMIT $5
)
UPDATE notifications_deliveries d
SET status = 'sending', claim = $6, claimed_until = now() + make_interval(secs => $7),
    attempts = d.attempts + 1
FROM chosen
WHERE d.notification_id = chosen.notification_id AND d.channel = chosen.channel
RETURNING d.notification_id, d.channel, d.recipient_id, d.endpoint, d.attempts, d.deferred_by,
          d.digest_id, d.claim, d.waiting_since, chosen.status = 'sending' AS interrupted,
          chosen.status = 'sending' AND chosen.handed_over_at IS NOT NULL AS in_doubt
"""


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds: send it, then record how it went."""

    notification_id: uuid.UUID
    channel: Channel
    recipient_id: str
    endpoint: str
    attempts: int
    deferred_by: str | None
    digest_id: uuid.UUID | None
    claim: uuid.UUID
    waiting_since: datetime | None
    # Claimed again after another dispatcher's claim ran out ...
    interrupted: bool
    # ... and that dispatcher had handed the message over: it may have arrived.
    in_doubt: bool
    # This process's clock: the lease ends no sooner than this (taken before the claim).
    lease_ends: float = 0.0

    @classmethod
    def of(cls, row: Any, lease_ends: float = 0.0) -> "Claimed":
        fields = {k: row[k] for k in cls.__dataclass_fields__ if k != "lease_ends"}
        return cls(**fields, lease_ends=lease_ends)

    @property
    def key(self) -> str:
        return f"{self.notification_id}/{self.channel}"


async def claim(
    runtime: Runtime,
    *,
    room: int,
    full: Sequence[str],
    busy: dict[str, int],
    per_endpoint: int,
    lease: float,
) -> list[list[Claimed]]:
    """Claim up to ``room`` due sends, at most ``per_endpoint`` in flight per endpoint
    (``busy`` holds what is in flight now; endpoints in ``full`` are not even looked at, so
    a slow endpoint's backlog never hides the others' deliveries).

    Each send is a group: one delivery, or a digest's deliveries (its leader first), claimed
    in the same transaction so that no other round or replica sends part of a digest alone.
    """
    token = uuid.uuid4()
    lease_ends = time.monotonic() + lease
    async with runtime.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            CLAIM, list(full), max(room * 4, 50), busy, per_endpoint, room, token, lease
        )
        groups = []
        for row in rows:
            leader = Claimed.of(row, lease_ends)
            if leader.deferred_by == "digest" or leader.digest_id is not None:
                groups.append(await _gather_digest(conn, leader, lease))
            else:
                groups.append([leader])
    return groups


async def _gather_digest(conn: Connection, leader: Claimed, lease: float) -> list[Claimed]:
    """The deliveries waiting for the same digest as ``leader`` (or, sent once already and
    in doubt, those of the same digest), claimed with it under one digest id."""
    digest_id = leader.digest_id or uuid.uuid4()
    rows = await conn.fetch(
        """WITH waiting AS (
               SELECT notification_id, channel, status, handed_over_at
               FROM notifications_deliveries
               WHERE recipient_id = $1 AND channel = $2
                 AND NOT (notification_id = $6 AND channel = $2)
                 AND CASE WHEN $7 THEN
                       -- a digest sent before (retried, or in doubt): exactly its own items
                       digest_id = $5 AND (status = 'pending'
                                           OR (status = 'sending' AND claimed_until < now()))
                     ELSE
                       -- a new digest: the items waiting for it, none of another digest
                       status = 'pending' AND deferred_by = 'digest' AND digest_id IS NULL
                       AND due_at <= now() + interval '1 minute'
                     END
               FOR UPDATE SKIP LOCKED)
           UPDATE notifications_deliveries d
           SET status = 'sending', claim = $3, attempts = d.attempts + 1,
               claimed_until = now() + make_interval(secs => $4), digest_id = $5
           FROM waiting w
           WHERE d.notification_id = w.notification_id AND d.channel = w.channel
           RETURNING d.notification_id, d.channel, d.recipient_id, d.endpoint, d.attempts,
                     d.deferred_by, d.digest_id, d.claim, d.waiting_since,
                     w.status = 'sending' AS interrupted,
                     w.status = 'sending' AND w.handed_over_at IS NOT NULL AS in_doubt""",
        leader.recipient_id,
        leader.channel,
        leader.claim,
        lease,
        digest_id,
        leader.notification_id,
        leader.digest_id is not None,
    )
    await conn.execute(
        "UPDATE notifications_deliveries SET digest_id = $3 "
        "WHERE notification_id = $1 AND channel = $2",
        leader.notification_id,
        leader.channel,
        digest_id,
    )
    return [replace(leader, digest_id=digest_id), *(Claimed.of(r, leader.lease_ends) for r in rows)]


class ClaimLost(Exception):
    """Another dispatcher claimed the delivery meanwhile: this outcome is not recorded (its
    transaction, the outcome event included, rolls back), or this message not sent."""


async def handed_over(runtime: Runtime, held: Sequence[Claimed]) -> None:
    """Mark the deliveries of one send as handed over, committed before the message leaves:
    from here until the outcome is recorded they are in doubt should this process die.
    Raises :class:`ClaimLost` (and nothing may be sent) unless every one is still held."""
    marked = await runtime.pool.fetchval(
        """WITH marked AS (
               UPDATE notifications_deliveries SET handed_over_at = now()
               WHERE notification_id = ANY($1::uuid[]) AND channel = $2 AND claim = $3
                 AND status = 'sending'
               RETURNING 1)
           SELECT count(*) FROM marked""",
        [h.notification_id for h in held],
        held[0].channel,
        held[0].claim,
    )
    if marked != len(held):
        raise ClaimLost(held[0].key)


def _must_have_updated(status: str, held: Claimed) -> None:
    if status.endswith(" 0"):
        raise ClaimLost(held.key)


async def _still_mine(conn: Connection, held: Claimed) -> bool:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('notifications-delivery'), hashtext($1))", held.key
    )
    mine = await conn.fetchval(
        """SELECT claim = $3 FROM notifications_deliveries
           WHERE notification_id = $1 AND channel = $2 AND status = 'sending'""",
        held.notification_id,
        held.channel,
        held.claim,
    )
    if not mine:
        log.warning("delivery-claim-lost", delivery=held.key)
    return bool(mine)


def _outcome(held: Claimed, kind: str, cause_id: str) -> dict[str, Any]:
    return {
        "notification_id": str(held.notification_id),
        "recipient_id": held.recipient_id,
        "channel": held.channel,
        "kind": kind,
        "cause_id": cause_id,
    }


async def _finish(
    runtime: Runtime,
    held: Sequence[Claimed],
    events: Sequence[DomainEvent],
    status: str,
    outcome: str,
    detail: str | None,
    now: datetime,
) -> int:
    """Record a final status for deliveries still held, each with its event; returns how many."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        mine = [(h, e) for h, e in zip(held, events, strict=True) if await _still_mine(conn, h)]
        appends: list[Append] = [
            (NOTIFICATION.stream(str(h.notification_id)), NOTIFICATION, [e], None) for h, e in mine
        ]
        await HANDLING.record(conn, runtime.store, appends, actor=ACTOR)
        for h, _ in mine:
            updated = await conn.execute(
                """UPDATE notifications_deliveries
                   SET status = $3, claim = NULL, claimed_until = NULL, finished_at = $4,
                       detail = $5, deferred_by = NULL, handed_over_at = NULL,
                       waiting_for = NULL
                   WHERE notification_id = $1 AND channel = $2 AND claim = $6""",
                h.notification_id,
                h.channel,
                status,
                now,
                detail,
                h.claim,
            )
            _must_have_updated(updated, h)
            await _attempt(conn, h, now, outcome, detail)
            if h.channel == "inapp" and status == "sent":
                await conn.execute(
                    """INSERT INTO notifications_inbox (notification_id, person_id, created_at)
                       SELECT notification_id, recipient_id, created_at
                       FROM notifications_notifications WHERE notification_id = $1
                       ON CONFLICT DO NOTHING""",
                    h.notification_id,
                )
    for h, _ in mine:
        OUTCOMES.labels(h.channel, outcome).inc()
    return len(mine)


async def _attempt(
    conn: Connection, held: Claimed, now: datetime, outcome: str, detail: str | None
) -> None:
    await conn.execute(
        "INSERT INTO notifications_attempts VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        held.notification_id,
        held.channel,
        held.attempts,
        now,
        outcome,
        detail,
    )


async def sent(
    runtime: Runtime,
    held: Sequence[Claimed],
    kinds: Sequence[tuple[str, str]],
    now: datetime,
    digest_id: uuid.UUID | None = None,
) -> int:
    """Accepted by the channel; ``kinds`` holds (kind, cause id) per delivery."""
    events = [
        NotificationSent(
            **_outcome(h, kind, cause),
            attempts=h.attempts,
            digest_id=str(digest_id) if digest_id else None,
            in_doubt=h.in_doubt,
        )
        for h, (kind, cause) in zip(held, kinds, strict=True)
    ]
    detail = f"in digest {digest_id}" if digest_id else None
    return await _finish(runtime, held, events, "sent", "sent", detail, now)


async def failed(
    runtime: Runtime,
    held: Sequence[Claimed],
    kinds: Sequence[tuple[str, str]],
    reason: str,
    now: datetime,
) -> int:
    events = [
        NotificationFailed(**_outcome(h, kind, cause), attempts=h.attempts, reason=reason)
        for h, (kind, cause) in zip(held, kinds, strict=True)
    ]
    return await _finish(runtime, held, events, "failed", "failed", reason, now)


async def suppressed(
    runtime: Runtime,
    held: Claimed,
    kind: str,
    cause: str,
    reason: str,
    now: datetime,
    *,
    status: str = "suppressed",
) -> int:
    event = NotificationSuppressed(**_outcome(held, kind, cause), reason=reason)  # type: ignore[arg-type]
    return await _finish(runtime, [held], [event], status, status, reason, now)


async def release(
    runtime: Runtime,
    held: Sequence[Claimed],
    until: datetime,
    outcome: str,
    detail: str | None,
    now: datetime,
    *,
    counts: bool,
    deferred_by: str | None = None,
    waiting_for: str | None = None,
    waiting_since: datetime | None = None,
) -> None:
    """Back to pending, due at ``until``: a retry (``counts``: the attempt was made) or a
    deferral (quiet hours, digest, ``waiting_for`` data since ``waiting_since``: it was
    not)."""
    released: list[Claimed] = []
    async with runtime.pool.acquire() as conn, conn.transaction():
        for h in held:
            if not await _still_mine(conn, h):
                continue
            await conn.execute(
                """UPDATE notifications_deliveries
                   SET status = 'pending', claim = NULL, claimed_until = NULL, due_at = $3,
                       attempts = attempts - $4, detail = $5, deferred_by = $6,
                       digest_id = CASE WHEN $6::text = 'digest' THEN digest_id END,
                       handed_over_at = NULL, waiting_for = $8,
                       waiting_since = coalesce($9, waiting_since)
                   WHERE notification_id = $1 AND channel = $2 AND claim = $7""",
                h.notification_id,
                h.channel,
                until,
                0 if counts else 1,
                detail,
                deferred_by,
                h.claim,
                waiting_for,
                waiting_since,
            )
            await _attempt(conn, h, now, outcome, detail)
            released.append(h)
    for h in released:  # counted once committed, like _finish
        OUTCOMES.labels(h.channel, outcome).inc()


async def fall_back(
    runtime: Runtime,
    held: Claimed,
    kind: str,
    cause: str,
    email_endpoint: str | None,
    now: datetime,
) -> None:
    """No Slack or Teams identity: this channel is suppressed (``no-identity``) and, unless
    email is off or absent, an email delivery takes its place (once, however many fall back)."""
    event = NotificationSuppressed(**_outcome(held, kind, cause), reason="no-identity")
    async with runtime.pool.acquire() as conn, conn.transaction():
        if not await _still_mine(conn, held):
            return
        await HANDLING.record(
            conn,
            runtime.store,
            [(NOTIFICATION.stream(str(held.notification_id)), NOTIFICATION, [event], None)],
            actor=ACTOR,
        )
        detail = "no identity: by email" if email_endpoint else "no identity"
        updated = await conn.execute(
            """UPDATE notifications_deliveries
               SET status = 'fallback', claim = NULL, claimed_until = NULL, finished_at = $3,
                   detail = $4, handed_over_at = NULL, waiting_for = NULL
               WHERE notification_id = $1 AND channel = $2 AND claim = $5""",
            held.notification_id,
            held.channel,
            now,
            detail,
            held.claim,
        )
        _must_have_updated(updated, held)
        await _attempt(conn, held, now, "fallback", detail)
        if email_endpoint:
            await conn.execute(
                """INSERT INTO notifications_deliveries (notification_id, channel, recipient_id,
                       status, endpoint, thread, thread_seq, due_at, created_at)
                   SELECT $1, 'email', $2, 'pending', $3, thread, thread_seq, $4, created_at
                   FROM notifications_deliveries WHERE notification_id = $1 AND channel = $5
                   ON CONFLICT DO NOTHING""",
                held.notification_id,
                held.recipient_id,
                email_endpoint,
                now,
                held.channel,
            )
    OUTCOMES.labels(held.channel, "fallback").inc()
