"""The dispatcher: sends due deliveries, many at once, none twice.

One per process, beside the consumers. It claims due deliveries as slots free up (up to
``dispatch_concurrency`` in flight, at most ``endpoint_concurrency`` per endpoint), sends each
in a task of its own and records the outcome (:mod:`claims`). A slow or failing endpoint holds
only its own slots, for at most ``send_timeout_seconds`` each; its retries wait out their
backoff as pending rows, so everybody else's deliveries go on.

Before sending, the delivery is checked against the person as they are now and the message
composed in full (:func:`kamu_notifications.domain.steps.next_step` decides): left or channel
turned off (suppressed), inside quiet hours (deferred to their end), waiting for a daily
digest (deferred, then sent as one message with the others), no Slack or Teams identity
(falls back to email), something the message needs not known yet, such as the other person's
name (waits, bounded, then fails; never sent with a blank).

Right before a message leaves, its claim is marked handed over and committed
(:func:`claims.handed_over`): a dispatcher that dies before that leaves nothing in doubt, one
that dies after it leaves the message in doubt, which the next claimant settles per channel.
"""

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

import asyncpg
import httpx
import structlog

from kamu_notifications.content.invites import invite, method_for
from kamu_notifications.content.render import Incomplete, Recipient, Rendered, render
from kamu_notifications.dispatch import claims, email, payloads
from kamu_notifications.dispatch.claims import Claimed
from kamu_notifications.dispatch.http import (
    encode,
    pinned,
    post,
    signed_headers,
    webhook_secret,
)
from kamu_notifications.dispatch.outcomes import SendOutcome, failed, in_doubt, retry
from kamu_notifications.domain.quiet import digest_time, quiet_until
from kamu_notifications.domain.steps import (
    Defer,
    Fail,
    FallBack,
    Policy,
    Send,
    Sent,
    Situation,
    Suppress,
    Wait,
    after_send,
    next_step,
)
from kamu_notifications.planning import PLANNED_CHANNEL, endpoint
from kamu_notifications.settings import LEASE_MARGIN_SECONDS, NotificationsSettings, settings_of
from kamu_notifications.state import Person, Prefs, person_of, prefs_of
from kamu_shared.runtime import Runtime, Worker

log = structlog.get_logger("kamu.notifications.dispatch")
LISTEN_RETRY_SECONDS = 10.0  # a lost wake-up connection is opened again at most this often


class LeaseTooShort(Exception):
    """The claim's lease would not outlast a send: put back, sent by a fresh claim."""


class Dispatcher:
    """Claims, sends and records deliveries until stopped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings: NotificationsSettings = settings_of(runtime)
        self.in_flight: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self.failed_claims = 0
        s = self.settings
        self.policy = Policy(
            retry_attempts=s.retry_attempts,
            retry_initial=timedelta(seconds=s.retry_initial_seconds),
            retry_max=timedelta(seconds=s.retry_max_seconds),
            wait_bound=timedelta(seconds=s.missing_data_wait_seconds),
            recheck_initial=timedelta(seconds=s.missing_data_recheck_seconds),
            recheck_max=timedelta(seconds=s.missing_data_recheck_max_seconds),
            resend_in_doubt=s.resend_in_doubt,
        )
        self._freed = asyncio.Event()
        self._planned = asyncio.Event()  # set by PostgreSQL's NOTIFY when rows are planned
        # httpx logs each request's URL at INFO; webhook URLs are bearer secrets.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
        self.client = httpx.AsyncClient(
            timeout=self.settings.send_timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=self.settings.dispatch_concurrency),
        )

    async def run(self, stop: asyncio.Event) -> None:
        listener: asyncpg.Connection | None = None
        listen_at = 0.0
        try:
            while not stop.is_set():
                if (listener is None or listener.is_closed()) and time.monotonic() > listen_at:
                    listen_at = time.monotonic() + LISTEN_RETRY_SECONDS
                    listener = await self._listen()
                self._planned.clear()  # before the claim: a notification during it is kept
                claimed = await self._claim()
                room_left = self.settings.dispatch_concurrency - len(self.tasks)
                if claimed and room_left > 0:
                    continue  # more may be due: claim again at once
                self._freed.clear()
                waits = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._freed.wait()),
                    asyncio.ensure_future(self._planned.wait()),
                ]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait(
                        waits,
                        timeout=self.settings.dispatch_poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                for w in waits:
                    w.cancel()
        finally:
            if listener is not None:
                await listener.close()
            await self._drain()
            await self.client.aclose()

    async def _listen(self) -> asyncpg.Connection | None:
        """A connection of its own that wakes the loop when deliveries are planned, so a
        message leaves at once rather than at the next poll. Best effort: without it (the
        server refused or dropped the connection; the loop tries again at its next turn) the
        poll every ``dispatch_poll_seconds`` still finds them."""
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(self.settings.database_url, timeout=5)
            await conn.add_listener(PLANNED_CHANNEL, lambda *_: self._planned.set())
        except Exception as exc:  # any failure only costs the wake-up
            log.warning("dispatch-listen-failed", error=repr(exc))
            if conn is not None:
                await conn.close(timeout=2)
            return None
        return conn

    async def _drain(self) -> None:
        """On shutdown, let sends in flight finish (their claims expire if they cannot)."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.send_timeout_seconds + 1)
        for task in self.tasks:
            task.cancel()

    async def _claim(self) -> int:
        room = self.settings.dispatch_concurrency - len(self.tasks)
        if room <= 0:
            return 0
        cap = self.settings.endpoint_concurrency
        full = [where for where, n in self.in_flight.items() if n >= cap]
        busy = {where: n for where, n in self.in_flight.items() if n}
        try:
            claimed = await claims.claim(
                self.runtime,
                room=room,
                full=full,
                busy=busy,
                per_endpoint=cap,
                lease=self.settings.lease_seconds,
            )
        except Exception as exc:  # the database blinked: try again next round
            self.failed_claims += 1
            log.warning("dispatch-claim-failed", error=repr(exc), in_a_row=self.failed_claims)
            return 0
        self.failed_claims = 0
        for group in claimed:
            held = group[0]
            self.in_flight[held.endpoint] += 1
            task = asyncio.create_task(self._deliver(group))
            self.tasks.add(task)
            task.add_done_callback(functools.partial(self._done, held=held))
        return len(claimed)

    def _done(self, task: "asyncio.Task[None]", *, held: Claimed) -> None:
        self.tasks.discard(task)
        self.in_flight[held.endpoint] -= 1
        if self.in_flight[held.endpoint] <= 0:
            del self.in_flight[held.endpoint]
        self._freed.set()

    async def _deliver(self, group: list[Claimed]) -> None:
        held = group[0]
        delivery = Delivery(self, group)
        try:
            await delivery.run()
        except LeaseTooShort:
            await delivery.put_back()
        except claims.ClaimLost:
            log.warning("delivery-claim-lost", delivery=held.key)
        except Exception as exc:
            if delivery.transmitting:
                # Handed over (perhaps delivered) but not recorded (a database error): the
                # claim expires and the next claimant settles it as in doubt, per channel.
                log.error("delivery-failed-to-record", delivery=held.key, error=repr(exc))
                return
            # Nothing went out (a template or data error, a database blip before sending):
            # an attempt like any other, retried with backoff, then failed.
            log.error("delivery-failed-before-sending", delivery=held.key, error=repr(exc))
            try:
                await delivery.give_back(f"internal error: {type(exc).__name__}")
            except Exception as again:
                log.error("delivery-release-failed", delivery=held.key, error=repr(again))

    def problem(self) -> str | None:
        if self.failed_claims >= 3:
            return f"claiming deliveries failed {self.failed_claims} times in a row"
        return None


class Delivery:
    """One claimed delivery (or a digest led by it), from checks to the recorded outcome.

    It gathers what is known now (the person, their preferences, the message composed in
    full or what it lacks), asks :func:`next_step` what to do, and does it; a send's answer
    goes through :func:`after_send` into the ledger."""

    def __init__(self, dispatcher: Dispatcher, group: list[Claimed]) -> None:
        self.d = dispatcher
        self.runtime = dispatcher.runtime
        self.settings = dispatcher.settings
        self.held = group[0]
        self.group = group
        # Set once the hand-over mark is committed, right before the message leaves: from
        # then until the outcome is recorded, the delivery is in doubt should this stop.
        self.transmitting = False
        self.kinds: list[tuple[str, str]] = [("unknown", "")] * len(group)
        self.rows: dict[Any, Any] = {}
        self.rendered: dict[uuid.UUID, Rendered] = {}
        self.incomplete: dict[uuid.UUID, str] = {}  # what each message lacks
        self.calendar: tuple[str, bytes] | None = None

    async def run(self) -> None:
        held, now = self.held, datetime.now(UTC)
        async with self.runtime.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM notifications_notifications WHERE notification_id = ANY($1) "
                "ORDER BY created_at",
                [h.notification_id for h in self.group],
            )
            person = await person_of(conn, held.recipient_id, self.settings)
            prefs = await prefs_of(conn, held.recipient_id, self.settings)
        self.rows = {r["notification_id"]: r for r in rows}
        if len(self.rows) != len(self.group):
            raise LookupError(f"delivery {held.key} has no notification")
        self.kinds = [
            (self.rows[h.notification_id]["kind"], self.rows[h.notification_id]["cause_id"])
            for h in self.group
        ]
        if not await self._drop_withdrawn(now):
            return
        held = self.held
        row = self.rows[held.notification_id]
        with structlog.contextvars.bound_contextvars(
            correlation_id=row["correlation_id"],
            notification_id=str(held.notification_id),
            channel=held.channel,
        ):
            await self._run(row, person, prefs, now)

    async def _run(self, row: Any, person: Person | None, prefs: Prefs, now: datetime) -> None:
        """What is known now, the step it calls for, and that step."""
        held, channel = self.held, self.held.channel
        digest = bool(row["digestible"]) and (
            held.deferred_by == "digest" or held.digest_id is not None
        )
        wanted = prefs.wants(channel) and (channel != "webhook" or bool(prefs.webhook_url))
        recipient = person.recipient if person is not None else None
        if recipient is not None and wanted and not (person and person.left):
            await self._compose(recipient, digest)
        step = next_step(self._situation(row, recipient, person, prefs, now, digest), self.d.policy)
        if isinstance(step, Send) and recipient is not None:
            if channel == "inapp":  # a row of ours, recorded with its outcome: nothing in doubt
                await claims.sent(self.runtime, self.group, self.kinds, now)
            elif step.digest:
                await self._send_digest(recipient, prefs, now, step.drop_incomplete is not None)
            else:
                await self._send_one(row, recipient, prefs, now)
        elif isinstance(step, Fail):
            await claims.failed(self.runtime, self.group, self.kinds, step.reason, now)
        elif isinstance(step, Suppress):
            for h, (kind, cause) in zip(self.group, self.kinds, strict=True):
                await claims.suppressed(self.runtime, h, kind, cause, step.reason, now)
        elif isinstance(step, Defer):
            await self._release(step.until, "deferred", step.why, now, deferred_by=step.by)
        elif isinstance(step, Wait):
            log.info("delivery-waits-for-data", missing=step.missing, until=step.until.isoformat())
            await self._release(
                step.until,
                "deferred",
                f"waiting for {step.missing}",
                now,
                deferred_by="digest" if digest else "missing-data",
                waiting_for=step.missing,
                waiting_since=step.since,
            )
        elif isinstance(step, FallBack):
            email_on = self.settings.smtp_host is not None and prefs.wants("email")
            where = endpoint("email", prefs) if email_on else None
            for h, (kind, cause) in zip(self.group, self.kinds, strict=True):
                await claims.fall_back(self.runtime, h, kind, cause, where, now)

    def _situation(
        self,
        row: Any,
        recipient: Recipient | None,
        person: Person | None,
        prefs: Prefs,
        now: datetime,
        digest: bool,
    ) -> Situation:
        held, channel = self.held, self.held.channel
        quiet = digest_due = None
        if recipient is not None:
            quiet = quiet_until(now, recipient.zone, prefs.quiet_hours)
            if row["digestible"] and prefs.digest == "daily" and not digest:
                starts = row["params"].get("starts_at")
                digest_due = digest_time(now, recipient.zone, prefs.digest_at, row["kind"], starts)
        identity = None
        if recipient is not None:
            identity = recipient.slack_user_id if channel == "slack" else recipient.teams_user_id
        waited = [h.waiting_since for h in self.group if h.waiting_since is not None]
        missing = [
            self.incomplete[h.notification_id]
            for h in self.group
            if h.notification_id in self.incomplete
        ]
        return Situation(
            channel=channel,
            recipient_id=held.recipient_id,
            now=now,
            attempts=held.attempts,
            interrupted=held.interrupted,
            in_doubt=held.in_doubt,
            left=person is not None and person.left,
            wanted=prefs.wants(channel) and (channel != "webhook" or bool(prefs.webhook_url)),
            recipient_known=recipient is not None,
            has_identity=bool(identity),
            has_address=recipient is not None and bool(recipient.email),
            quiet_until=quiet,
            digest_due=digest_due,
            digest=digest,
            missing=missing[0] if missing else None,
            complete_items=len(self.rendered),
            waiting_since=min(waited) if waited else None,
        )

    async def _compose(self, recipient: Recipient, digest: bool) -> None:
        """Write every message of the group now, in full, or note what each lacks (the
        other person's name not yet known, say): nothing is sent half-filled."""
        rows = [self.rows[h.notification_id] for h in self.group]
        others = [r["params"].get("other_id") for r in rows]
        names = await self._names([o for o in others if isinstance(o, str)])
        for h, row, other in zip(self.group, rows, others, strict=True):
            name = names.get(other) if isinstance(other, str) else None
            try:
                self.rendered[h.notification_id] = render(
                    row["kind"],
                    dict(row["params"]),
                    recipient,
                    name,
                    base_url=self.settings.app_base_url,
                )
            except Incomplete as exc:
                self.incomplete[h.notification_id] = str(exc)
        if self.held.channel == "email" and not digest and self.rendered:
            try:
                self.calendar = await self._calendar(rows[0], recipient)
            except Incomplete as exc:
                self.incomplete[self.held.notification_id] = str(exc)
                self.rendered.clear()

    async def _hand_over(self) -> None:
        """Commit the hand-over mark: the message leaves right after this returns."""
        await claims.handed_over(self.runtime, self.group)
        self.transmitting = True

    async def _transmit(self, send: Callable[[], Awaitable[SendOutcome]]) -> SendOutcome:
        """Send within the send timeout as a whole (name lookup, connection, every byte),
        and only with enough of the lease left that it cannot expire under the send. A send
        cut short after the message was handed over is in doubt, before it a retry."""
        s = self.settings
        left = min(h.lease_ends for h in self.group) - time.monotonic()
        if left < s.send_timeout_seconds + LEASE_MARGIN_SECONDS:
            raise LeaseTooShort(self.held.key)
        try:
            async with asyncio.timeout(s.send_timeout_seconds):
                return await send()
        except TimeoutError:
            return in_doubt("timed out") if self.transmitting else retry("timed out")

    async def put_back(self) -> None:
        """Unsent because the lease ran short (a slow database, a busy process): due now
        again, not an attempt, a digest still a digest."""
        digest = self.held.deferred_by == "digest" or self.held.digest_id is not None
        now = datetime.now(UTC)
        by = "digest" if digest else self.held.deferred_by
        await self._release(now, "deferred", "lease too short", now, deferred_by=by)

    async def give_back(self, detail: str) -> None:
        """After an error before sending: retry later, or fail when the attempts are spent."""
        if not self.rows:  # the error came before the notifications were read
            async with self.runtime.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT notification_id, kind, cause_id FROM notifications_notifications "
                    "WHERE notification_id = ANY($1)",
                    [h.notification_id for h in self.group],
                )
            found = {r["notification_id"]: (r["kind"], r["cause_id"]) for r in rows}
            self.kinds = [found.get(h.notification_id, ("unknown", "")) for h in self.group]
        await self._record(retry(detail), datetime.now(UTC))

    async def _drop_withdrawn(self, now: datetime) -> bool:
        """Suppress the items no longer to be sent (withdrawn by a later event, or a reminder
        of a meeting that has begun); returns whether anything is left to send."""
        keep: list[Claimed] = []
        kinds: list[tuple[str, str]] = []
        for held, (kind, cause) in zip(self.group, self.kinds, strict=True):
            row = self.rows[held.notification_id]
            reason = row["withdrawn"]
            starts = row["params"].get("starts_at") if kind == "meeting-reminder" else None
            if reason is None and starts and datetime.fromisoformat(starts) <= now:
                reason = "outdated"  # a reminder of a meeting that has begun
            if reason is None:
                keep.append(held)
                kinds.append((kind, cause))
            else:
                await claims.suppressed(self.runtime, held, kind, cause, reason, now)
        if not keep:
            return False
        self.group, self.kinds, self.held = keep, kinds, keep[0]
        return True

    async def _release(
        self,
        until: datetime,
        outcome: str,
        detail: str,
        now: datetime,
        *,
        deferred_by: str | None,
        counts: bool = False,
        waiting_for: str | None = None,
        waiting_since: datetime | None = None,
    ) -> None:
        await claims.release(
            self.runtime,
            self.group,
            until,
            outcome,
            detail,
            now,
            counts=counts,
            deferred_by=deferred_by,
            waiting_for=waiting_for,
            waiting_since=waiting_since,
        )

    async def _names(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        async with self.runtime.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT person_id, display_name FROM notifications_people "
                "WHERE person_id = ANY($1::text[])",
                list(ids),
            )
        return {r["person_id"]: r["display_name"] for r in rows}

    async def _send_one(self, row: Any, recipient: Recipient, prefs: Prefs, now: datetime) -> None:
        held = self.held
        rendered = self.rendered[held.notification_id]
        message_id = str(held.notification_id)
        if held.channel == "email":
            message = email.build(
                self.settings,
                (recipient.display_name, recipient.email or ""),
                rendered,
                message_id,
                self.calendar,
            )
            outcome = await self._transmit(
                lambda: email.send(self.settings, message, self._hand_over)
            )
        else:
            params = dict(row["params"])
            outcome = await self._post(
                row["kind"], recipient, prefs, rendered, message_id, params, row["created_at"]
            )
        await self._record(outcome, now)

    async def _post(
        self,
        kind: str,
        recipient: Recipient,
        prefs: Prefs,
        rendered: Rendered,
        message_id: str,
        params: dict[str, Any],
        created_at: datetime,
        items: list[str] | None = None,
    ) -> SendOutcome:
        s, channel, mark = self.settings, self.held.channel, self._hand_over
        headers = {"idempotency-key": message_id}
        if channel == "slack" and s.slack_webhook_url:
            body = encode(payloads.slack(recipient, rendered, message_id))
            slack = s.slack_webhook_url
            return await self._transmit(
                lambda: post(self.d.client, slack, body, headers, before=mark)
            )
        if channel == "teams" and s.teams_webhook_url:
            body = encode(payloads.teams(recipient, rendered, message_id))
            teams = s.teams_webhook_url
            return await self._transmit(
                lambda: post(self.d.client, teams, body, headers, before=mark)
            )
        if channel == "webhook" and prefs.webhook_url:
            body = encode(
                payloads.webhook(
                    message_id, kind, recipient.person_id, rendered, params, created_at, items
                )
            )
            secret = webhook_secret(s, recipient.person_id, prefs.webhook_url)
            address = prefs.webhook_url
            if secret is None:
                return failed("webhooks cannot be signed: no signing key is configured")

            async def send() -> SendOutcome:
                # The same webhook-id on every attempt, resends after a crash included; the
                # timestamp and signature are those of this attempt (Standard Webhooks).
                signed = signed_headers(secret, message_id, body)
                if s.webhook_allow_private:  # local runs: the address as given
                    return await post(self.d.client, address, body, signed, before=mark)
                target = await pinned(address)
                if isinstance(target, SendOutcome):
                    return target
                headers = {**signed, **target.headers}
                return await post(
                    self.d.client, target.url, body, headers, target.extensions, before=mark
                )

            return await self._transmit(send)
        return failed(f"{channel} is not configured")

    async def _calendar(self, row: Any, recipient: Recipient) -> tuple[str, bytes] | None:
        """The meeting's invitation or cancellation, both members attending: a member not
        known here yet makes the message incomplete (it waits), not an invite without them."""
        method = method_for(row["kind"])
        if method is None:
            return None
        params = dict(row["params"])
        attendees = []
        async with self.runtime.pool.acquire() as conn:
            for key in ("colleague_id", "kamu_id"):
                member = params.get(key)
                if not member:
                    continue
                person = await person_of(conn, member, self.settings)
                if person is None or not person.recipient.display_name.strip():
                    raise Incomplete(f"display name of person {member}")
                attendees.append(person.recipient)
        name, address = _sender(self.settings.email_from)
        subject = self.rendered[self.held.notification_id].subject
        ics = invite(row["kind"], params, attendees, (address, name), subject)
        return (method, ics) if ics else None

    async def _send_digest(
        self, recipient: Recipient, prefs: Prefs, now: datetime, drop_incomplete: bool
    ) -> None:
        s = self.settings
        if drop_incomplete:  # waited long enough: those go no further, the others go now
            keep = [
                (h, k)
                for h, k in zip(self.group, self.kinds, strict=True)
                if h.notification_id in self.rendered
            ]
            for h, k in zip(self.group, self.kinds, strict=True):
                if h.notification_id in self.incomplete:
                    reason = f"missing {self.incomplete[h.notification_id]}"
                    await claims.failed(self.runtime, [h], [k], reason, now)
            self.group, self.kinds = [h for h, _ in keep], [k for _, k in keep]
        held = self.held
        digest_id = held.digest_id or uuid.uuid4()
        items = [self.rendered[h.notification_id] for h in self.group]
        digest = render("digest", {}, recipient, None, base_url=s.app_base_url, items=items)
        message_id = str(digest_id)
        if held.channel == "email":
            to = (recipient.display_name, recipient.email or "")
            message = email.build(s, to, digest, message_id, None)
            outcome = await self._transmit(lambda: email.send(s, message, self._hand_over))
        else:
            outcome = await self._post(
                "digest",
                recipient,
                prefs,
                digest,
                message_id,
                {},
                now,
                items=[str(h.notification_id) for h in self.group],
            )
        await self._record(outcome, now, digest_id=digest_id)

    async def _record(
        self, outcome: SendOutcome, now: datetime, digest_id: uuid.UUID | None = None
    ) -> None:
        """Record what the channel answered (in :func:`after_send`'s terms). A database
        blip is tried again at once, a few times, while the claim is still ours: an
        unrecorded send left to its lease would be in doubt."""
        group, kinds = self.group, self.kinds
        attempts = max(h.attempts for h in group)
        step = after_send(
            self.held.channel,
            outcome.result,
            outcome.detail,
            outcome.retry_after,
            attempts,
            self.d.policy,
        )
        for pause in (0.2, 0.5, None):
            try:
                if isinstance(step, Sent):
                    await claims.sent(self.runtime, group, kinds, now, digest_id)
                elif isinstance(step, Fail):
                    await claims.failed(self.runtime, group, kinds, step.reason, now)
                else:
                    digest = self.held.deferred_by == "digest"
                    await self._release(
                        now + step.after,
                        "retry",
                        step.detail,
                        now,
                        deferred_by="digest" if digest else None,
                        counts=True,
                    )
                return
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
                if pause is None or not self.transmitting:
                    raise
                log.warning("delivery-record-retried", delivery=self.held.key, error=repr(exc))
                await asyncio.sleep(pause)


def _sender(value: str) -> tuple[str, str]:
    name, address = parseaddr(value)
    return name or "Kamu", address


def dispatcher_worker() -> Worker:
    """The dispatcher as the runtime runs it, with its state for ``/readyz``."""

    async def run(runtime: Runtime, stop: asyncio.Event) -> None:
        dispatcher = Dispatcher(runtime)
        runtime.local["dispatcher"] = dispatcher
        await dispatcher.run(stop)

    def problem(runtime: Runtime) -> str | None:
        dispatcher = runtime.local.get("dispatcher")
        return dispatcher.problem() if isinstance(dispatcher, Dispatcher) else None

    return Worker(name="notifications-dispatch", run=run, problem=problem)
