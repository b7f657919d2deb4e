"""The invariants every fault test checks after its fault, one checker for all of them.

For every 2xx command of the test's streams: its events are in the service's store (exactly
one each); every stored event is on the service's topic exactly once per ``ce_id`` and in
``ce_sequence`` order per key; every consumer group that applies its type has it in its ledger
(the record a consumer writes in the same transaction as its effects, so present means
applied); nothing but the test's own poison is parked. Every notification the commands imply
is planned once and each of its deliveries sent, and what the catcher got holds each of them
exactly once, addressed and filled in. And the clients never saw a 500, nor a 503 without
Retry-After and problem+json.

Findings are of two kinds: ``missing`` may still come (the platform is catching up), ``broken``
never heals by waiting (a duplicate, a 500, a half-filled message); :meth:`Invariants.settle`
waits for the first kind only. A test is judged on what it did: its own stories, the events
stored since it began (:class:`Mark`), and nothing that was already broken when it began.
"""

import asyncio
import email
import itertools
import json
import re
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from kamu_devstack.platform import Platform
from kamu_devstack.services import PUBLISHERS
from kamu_shared.events.envelope import Envelope, EnvelopeError
from tests.faults.client import Api, ClientView, Person, Story

Json = dict[str, Any]
Record = tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]  # see read_records
TYPE_NAME = re.compile(r"^kamu\.[a-z]+\.(?P<name>[a-z][a-z-]*)\.v\d+$")
CHANNELS = {"email", "slack", "teams", "inapp"}  # everyone's (people carry Slack and Teams ids)
# A Slack, Teams or webhook message sent again after a crash left it in doubt carries the same
# id (``webhook-id``, ``idempotency-key``) and body, which its receiver is told to drop (the
# Standard Webhooks contract; DESIGN: "carries an idempotency id so receivers can
# de-duplicate"): allowed. Emails have no such contract: never twice. False: none twice at all.
SAME_ID_RESENDS_OK = True
# A message the dispatcher had handed over when it died (or lost its database) is recorded
# "failed, in doubt" and, on a channel whose receivers cannot drop a copy (email, Slack,
# Teams by default), not sent again: DESIGN's "delivered at most once" wins over "eventually
# sent". Such a message may have arrived once or never, never twice; there can be no more of
# them than were in flight at once (KAMU_DISPATCH_CONCURRENCY, 16 by default). Each one is
# named in a warning. False: every notification must arrive, in doubt or not.
IN_DOUBT_MAY_BE_LOST = True
# A relay that dies after Kafka acknowledged a batch and before it saved its checkpoint leaves
# the batch on the topic; the next leader reads it back and does not send it again
# (kamu_shared/outbox/tail.py). True: identical copies in the same partition are noted, not
# broken (at least once, dropped by every consumer's ledger). False: once per ce_id, strictly.
RELAY_REPUBLISH_OK = False
IN_DOUBT_AT_MOST = 16


@dataclass(frozen=True)
class Consumer:
    """A consumer group: the database its ledger is in and the event types it applies."""

    database: str
    group: str  # its name in the default namespace (a projection's: projection.<name>)
    types: frozenset[str]

    @property
    def projection(self) -> str | None:
        return (
            self.group.removeprefix("projection.") if self.group.startswith("projection.") else None
        )


def _types(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Who applies what, per topic: docs/architecture.md, "Topics and consumer groups".
CONSUMERS: dict[str, tuple[Consumer, ...]] = {
    "pairing": (
        Consumer(
            "meetings",
            "meetings.pairing-events",
            _types(
                "person-registered person-updated pairing-requested pairing-declined "
                "pairing-withdrawn pairing-created pairing-ended"
            ),
        ),
        Consumer("goals", "goals.pairing-events", _types("pairing-created pairing-ended")),
        Consumer(
            "notifications",
            "notifications.pairing-events",
            _types(
                "person-registered person-updated person-left pairing-requested "
                "pairing-created pairing-declined pairing-withdrawn pairing-ended"
            ),
        ),
        Consumer(
            "insights",
            "projection.insights_pairing",
            _types(
                "person-registered person-updated person-left kamu-volunteered "
                "kamu-profile-updated kamu-training-completed kamu-paused kamu-resumed "
                "kamu-retired pairing-requested pairing-created pairing-declined "
                "pairing-withdrawn pairing-ended"
            ),
        ),
    ),
    "meetings": (
        Consumer("goals", "goals.meeting-events", _types("meeting-held")),
        Consumer(
            "notifications",
            "notifications.meeting-events",
            _types(
                "meeting-scheduled meeting-rescheduled meeting-cancelled meeting-held "
                "meeting-overdue"
            ),
        ),
        Consumer(
            "insights",
            "projection.insights_meetings",
            _types(
                "meeting-scheduled meeting-rescheduled meeting-cancelled meeting-held "
                "meeting-feedback-given meeting-overdue"
            ),
        ),
    ),
    "goals": (
        Consumer(
            "meetings",
            "meetings.goal-events",
            _types(
                "goal-set goal-revised goal-shared goal-unshared goal-review-due "
                "goal-reviewed goal-completed goal-abandoned"
            ),
        ),
        Consumer(
            "notifications",
            "notifications.goal-events",
            _types("goal-review-due goal-unshared goal-reviewed goal-completed goal-abandoned"),
        ),
        Consumer(
            "insights",
            "projection.insights_goals",
            _types("goal-set goal-revised goal-reviewed goal-completed goal-abandoned"),
        ),
    ),
    "notifications": (
        Consumer(
            "insights",
            "projection.insights_notifications",
            _types("notification-sent notification-failed notification-suppressed"),
        ),
    ),
}


@dataclass
class Report:
    """What an invariant check found: ``missing`` may still come, ``broken`` will not heal."""

    missing: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # allowed, but worth a warning

    @property
    def ok(self) -> bool:
        return not self.missing and not self.broken

    def __str__(self) -> str:
        def listed(title: str, items: list[str]) -> str:
            shown = "\n  ".join(items[:25])
            more = f"\n  ... and {len(items) - 25} more" if len(items) > 25 else ""
            return f"{title} ({len(items)}):\n  {shown}{more}" if items else ""

        return "\n".join(
            t for t in (listed("broken", self.broken), listed("missing", self.missing)) if t
        )


@dataclass(frozen=True)
class Mark:
    """Where a test began: each store's last position, and what was broken already."""

    positions: dict[str, int] = field(default_factory=dict)
    broken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Stored:
    service: str
    position: int
    event_id: uuid.UUID
    stream_id: str
    version: int
    name: str
    data: Json


class Invariants:
    """Reads the stores, topics, ledgers, the notifications ledger and the catcher."""

    def __init__(self, platform: Platform, api: Api) -> None:
        self.platform = platform
        self.api = api
        # Keys of records a test put on a topic itself (poison): not events, and parked.
        self.poison_keys: set[bytes] = set()

    def topic(self, service: str) -> str:
        return f"{self.platform.namespace}.{service}.events"

    def group(self, consumer: Consumer) -> str:
        return f"{self.platform.namespace}.{consumer.group}"

    async def mark(self, stories: Sequence[Story]) -> Mark:
        """The starting point of a test (its :meth:`report` ignores what was before)."""
        positions = {s: await self._last_position(s) for s in PUBLISHERS}
        report = await self.report(stories, [], ClientView(), Mark())
        return Mark(positions, frozenset(report.broken))

    async def settle(
        self,
        stories: Sequence[Story],
        mine: Sequence[Story],
        view: ClientView,
        mark: Mark,
        timeout: float,
    ) -> float:
        """Wait until every invariant holds; the seconds it took. What is missing is waited
        for until ``timeout``; then anything broken or still missing fails, with the
        server's open transactions when something is missing (a relay waits for older ones)."""
        started = time.monotonic()
        while True:
            report = await self.report(stories, mine, view, mark)
            took = time.monotonic() - started
            if report.ok:
                for note in report.notes:
                    warnings.warn(f"fault tests: {note}", stacklevel=3)
                return took
            if not report.missing:
                raise AssertionError(
                    f"invariants broken (the rest held after {took:.0f}s):\n{report}"
                )
            if took > timeout:
                held = "\n  ".join(await self.transactions())
                raise AssertionError(
                    f"invariants not restored within {timeout:g}s:\n{report}\n"
                    f"transactions open on the server:\n  {held}"
                )
            await asyncio.sleep(0.5)

    async def report(
        self, stories: Sequence[Story], mine: Sequence[Story], view: ClientView, mark: Mark
    ) -> Report:
        """Every story's events still stored once (nothing lost, whoever's); the events stored
        since ``mark`` published and applied; ``mine``'s notifications and reads; anything
        broken that was not broken at ``mark``."""
        report = Report(broken=view.problems())
        report.broken += [f"{s.colleague.id}: {s.refused}" for s in mine if s.refused]
        # The topics before the stores: whatever a topic holds was stored before it was read.
        topics = {
            s: await read_records(self.platform.kafka_bootstrap, self.topic(s)) for s in PUBLISHERS
        }
        stores = {s: await self._store(s) for s in PUBLISHERS}
        self._check_expected(stories, stores, report)
        recent = {
            s: [e for e in events if e.position > mark.positions.get(s, 0)]
            for s, events in stores.items()
        }
        self._check_topics(topics, stores, recent, report)
        await self._check_ledgers(recent, report)
        await self._check_parked(report)
        await self._check_notifications(mine, report)
        if not report.missing:  # the API's view, once the databases agree
            await self._check_reads(mine, report)
        report.broken = [b for b in report.broken if b not in mark.broken]
        return report

    async def transactions(self) -> list[str]:
        """The server's transactions holding an id or open for seconds, oldest first."""
        rows = await self._fetch(
            "pairing",
            "SELECT datname, pid, state, backend_xid, wait_event, "
            "round(extract(epoch FROM now() - xact_start)) AS age, left(query, 100) AS query "
            "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_xid IS NOT NULL "
            "OR xact_start < now() - interval '5 seconds') ORDER BY xact_start",
        )
        return [str(dict(r)) for r in rows] or ["none"]

    async def _last_position(self, service: str) -> int:
        rows = await self._fetch(service, "SELECT coalesce(max(position), 0) AS p FROM kamu_events")
        return int(rows[0]["p"])

    async def _fetch(self, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.platform.databases[service], timeout=10)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close(timeout=5)

    async def _store(self, service: str) -> list[Stored]:
        rows = await self._fetch(
            service,
            "SELECT position, event_id, stream_id, version, event_type, data FROM kamu_events "
            "ORDER BY position",
        )
        stored = []
        for r in rows:
            match = TYPE_NAME.match(r["event_type"])
            name = match["name"] if match else r["event_type"]
            data = r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])
            stored.append(
                Stored(
                    service, r["position"], r["event_id"], r["stream_id"], r["version"], name, data
                )
            )
        return stored

    @staticmethod
    def _check_expected(
        stories: Sequence[Story], stores: dict[str, list[Stored]], report: Report
    ) -> None:
        for story in stories:
            for e in story.expected:
                found = [
                    s
                    for s in stores[e.service]
                    if s.name == e.name and str(s.data.get(e.field)) == e.value
                ]
                if len(found) != 1:
                    report.broken.append(
                        f"{e.service} stored {len(found)} {e.name} with {e.field}={e.value} "
                        "after a 2xx (one expected)"
                    )

    def _check_topics(
        self,
        topics: dict[str, list[Record]],
        stores: dict[str, list[Stored]],
        recent: dict[str, list[Stored]],
        report: Report,
    ) -> None:
        """Every record once, in order per key, and from the store; the recent ones there."""
        for service, stored in stores.items():
            records = topics[service]
            ids: dict[uuid.UUID, list[str]] = defaultdict(list)  # where each ce_id is
            first: dict[uuid.UUID, tuple[int, bytes | None, list[tuple[str, bytes]]]] = {}
            republished: set[uuid.UUID] = set()
            by_key: dict[str, list[int]] = defaultdict(list)
            partition_of: dict[str, set[int]] = defaultdict(set)
            for partition, offset, key, value, headers in records:
                if key in self.poison_keys:
                    continue
                try:
                    envelope = Envelope.from_kafka(key, value, headers)
                except EnvelopeError as exc:
                    report.broken.append(f"{service} topic {partition}@{offset}: {exc}")
                    continue
                ids[envelope.id].append(f"{partition}@{offset}")
                if len(ids[envelope.id]) == 1:  # a copy is reported as one, not as disorder
                    by_key[envelope.subject].append(envelope.sequence)
                    first[envelope.id] = (partition, value, headers)
                elif RELAY_REPUBLISH_OK and first[envelope.id] == (partition, value, headers):
                    republished.add(envelope.id)
                partition_of[envelope.subject].add(partition)
            for event_id, where in ids.items():
                if len(where) > 1 and event_id in republished:
                    report.notes.append(f"{service} topic: ce_id {event_id} republished {where}")
                elif len(where) > 1:
                    report.broken.append(f"{service} topic: ce_id {event_id} at {where}")
            known = {s.event_id for s in stored}
            if unknown := set(ids) - known:
                report.broken.append(f"{service} topic: events not in the store: {unknown}")
            for key, sequences in by_key.items():
                if len(partition_of[key]) > 1:
                    report.broken.append(
                        f"{service} topic: {key} on partitions {partition_of[key]}"
                    )
                if any(b <= a for a, b in itertools.pairwise(sequences)):
                    report.broken.append(f"{service} topic: {key} out of order: {sequences}")
            unpublished = [s for s in recent[service] if s.event_id not in ids]
            for s in unpublished[:10]:
                report.missing.append(f"{service} topic: {s.stream_id} v{s.version} ({s.name})")
            if len(unpublished) > 10:
                report.missing.append(f"{service} topic: {len(unpublished) - 10} more unpublished")

    async def _check_ledgers(self, stores: dict[str, list[Stored]], report: Report) -> None:
        for service, consumers in CONSUMERS.items():
            source = f"/kamu/{service}"
            for consumer in consumers:
                wanted = [s for s in stores[service] if s.name in consumer.types]
                if not wanted:
                    continue
                applied = await self._applied(consumer)
                missing = [s for s in wanted if (source, s.event_id) not in applied]
                if missing:
                    names = Counter(s.name for s in missing)
                    report.missing.append(
                        f"{consumer.group} ({consumer.database}) has not applied "
                        f"{len(missing)} of {service}'s events: {dict(names)}"
                    )

    async def _applied(self, consumer: Consumer) -> set[tuple[str, uuid.UUID]]:
        if consumer.projection is not None:
            rows = await self._fetch(
                consumer.database,
                f'SELECT source, event_id FROM "rm_{consumer.projection}".kamu_applied',
            )
        else:
            rows = await self._fetch(
                consumer.database,
                "SELECT source, event_id FROM kamu_processed_events WHERE consumer_group = $1",
                self.group(consumer),
            )
        return {(r["source"], r["event_id"]) for r in rows}

    async def parked(self, service: str) -> list[asyncpg.Record]:
        return await self._fetch(
            service,
            "SELECT consumer_group, topic, key, event_type, error FROM kamu_parked_messages "
            "WHERE status = 'parked' ORDER BY id",
        )

    async def _check_parked(self, report: Report) -> None:
        for service in self.platform.databases:
            for row in await self.parked(service):
                if bytes(row["key"] or b"") not in self.poison_keys:
                    report.broken.append(
                        f"{row['consumer_group']} parked {row['event_type']} "
                        f"({row['key']!r}): {row['error'][:200]}"
                    )

    async def _check_notifications(self, stories: Sequence[Story], report: Report) -> None:
        """Each implied notification planned once, on every channel the person has, each
        delivery sent; and the catcher got each exactly once, whole (:class:`Caught`)."""
        people = {p.id: (s, p) for s in stories for p in (s.colleague, s.kamu)}
        if not people:
            return
        rows = await self._fetch(
            "notifications",
            "SELECT n.notification_id, n.recipient_id, n.kind, d.channel, d.status, d.detail "
            "FROM notifications_notifications n JOIN notifications_deliveries d "
            "USING (notification_id) WHERE n.recipient_id = ANY($1::text[])",
            list(people),
        )
        # Read after the ledger: whatever it records as sent has reached the catcher by now.
        caught = Caught.read(self.platform.catcher_folder, people)
        report.broken += caught.problems
        planned: dict[uuid.UUID, tuple[str, str]] = {}
        channels: dict[uuid.UUID, set[str]] = defaultdict(set)
        doubts: list[str] = []
        for r in rows:
            nid, channel, status = r["notification_id"], r["channel"], r["status"]
            planned[nid] = (r["recipient_id"], r["kind"])
            channels[nid].add(channel)
            what = f"{r['kind']} to {r['recipient_id']} on {channel}"
            n = caught.count[(str(nid), channel)]
            in_doubt = status == "failed" and "in doubt" in (r["detail"] or "")
            if status in ("pending", "sending"):
                report.missing.append(f"{what}: {status}")
            elif status not in ("sent", "failed") or (status == "failed" and not in_doubt):
                report.broken.append(f"{what}: {status} ({r['detail']})")
            elif channel == "inapp":
                continue
            elif in_doubt:
                doubts.append(f"{what}: in doubt, caught {n} times")
                if n > 1 and channel == "email":
                    report.broken.append(f"{what}: in doubt and caught {n} times")
                elif n == 0 and not IN_DOUBT_MAY_BE_LOST:
                    report.broken.append(f"{what}: in doubt and never caught: lost")
            elif n == 0:
                report.broken.append(f"{what}: recorded sent, never caught")
            elif channel == "email" and n > 1:
                report.broken.append(f"{what}: caught {n} times")
        report.notes += doubts
        if len(doubts) > IN_DOUBT_AT_MOST:
            report.broken.append(
                f"{len(doubts)} deliveries in doubt, more than could be in flight at once"
            )
        wanted: Counter[tuple[str, str]] = Counter()
        for story in stories:
            wanted.update(story.notifications)
        have = Counter(planned.values())
        for pair in wanted.keys() | have.keys():
            if have[pair] > wanted[pair]:
                report.broken.append(f"{pair} planned {have[pair]} times, {wanted[pair]} implied")
            elif have[pair] < wanted[pair]:
                report.missing.append(f"{pair} not planned yet")
        for nid, (recipient, kind) in planned.items():
            story = people[recipient][0]
            hooked = story.webhook and recipient == story.colleague.id
            expected = CHANNELS | ({"webhook"} if hooked else set())
            if channels[nid] != expected:
                report.broken.append(
                    f"{kind} to {recipient}: deliveries on {sorted(channels[nid])}, "
                    f"expected {sorted(expected)}"
                )

    async def _check_reads(self, stories: Sequence[Story], report: Report) -> None:
        """What clients read: meetings knows each pairing as active; each shared goal is the
        Kamu's to read."""
        for story in stories:
            if story.pairing_id is not None and story.done:
                response = await self.api.get(
                    "meetings", f"/pairings/{story.pairing_id}/cadence", story.colleague.who
                )
                if response is None or response.status_code != 200:
                    status = response.status_code if response is not None else "no answer"
                    report.missing.append(f"meetings: cadence of {story.pairing_id}: {status}")
                elif response.json().get("status") != "active":
                    report.broken.append(f"meetings: {story.pairing_id} is {response.json()}")


async def read_records(bootstrap: str, topic: str) -> list[Record]:
    """Every record of ``topic`` up to its current end, raw: (partition, offset, key, value,
    headers), in offset order per partition. Raw, because a poison record is no envelope."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    numbers = sorted(p["partition"] for d in described for p in d.get("partitions") or ())
    partitions = [TopicPartition(topic, p) for p in numbers]
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            found = []
            for tp in partitions:
                while await consumer.position(tp) < end[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=1000)
                    for r in batch.get(tp, []):
                        if r.offset < end[tp]:
                            found.append((tp.partition, r.offset, r.key, r.value, list(r.headers)))
            return found
    finally:
        await consumer.stop()


@dataclass
class Caught:
    """What the catcher got (its files), counted per (notification, channel), and what was
    wrong with any of it: an email twice (receivers do not reliably drop a copy by its
    Message-ID), an HTTP message twice with different content under one id (a resend with the
    same ``webhook-id`` or idempotency key and body is what a receiver is told to drop, see
    :data:`SAME_ID_RESENDS_OK`), a message not addressed or not filled in."""

    count: Counter[tuple[str, str]] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    bodies: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def read(cls, folder: Path, people: dict[str, tuple[Story, Person]]) -> "Caught":
        caught = cls()
        caught._mails(folder, people)
        caught._hooks(folder, people)
        for (nid, channel), bodies in caught.bodies.items():
            n = caught.count[(nid, channel)]
            if len(bodies) > 1 or (n > 1 and not SAME_ID_RESENDS_OK):
                caught.problems.append(f"{channel} {nid} caught {n} times ({len(bodies)} bodies)")
        return caught

    def _mails(self, folder: Path, people: dict[str, tuple[Story, Person]]) -> None:
        by_email = {p.email: pid for pid, (_, p) in people.items()}
        message_ids: Counter[str] = Counter()
        for path in sorted((folder / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            address = str(message["To"]).rpartition("<")[2].rstrip(">").strip()
            recipient = by_email.get(address)
            if recipient is None:
                continue  # not one of the stories' people
            message_ids[str(message["Message-ID"])] += 1
            self.count[(str(message["X-Kamu-Notification-Id"] or ""), "email")] += 1
            for header in ("From", "To", "Subject", "Date", "Message-ID"):
                if not str(message[header] or "").strip():
                    self.problems.append(f"mail {path.name}: no {header}")
            body = message.get_body(("plain",))
            text = body.get_content() if isinstance(body, EmailMessage) else ""
            self._filled(f"mail {path.name}", people, recipient, str(message["Subject"]), text)
        for mid, n in message_ids.items():
            if n > 1:
                self.problems.append(f"Message-ID {mid} caught {n} times")

    def _hooks(self, folder: Path, people: dict[str, tuple[Story, Person]]) -> None:
        by_slack = {p.slack: pid for pid, (_, p) in people.items()}
        by_teams = {p.teams: pid for pid, (_, p) in people.items()}
        for path in sorted((folder / "hooks").glob("*.json")):
            hook = json.loads(path.read_text())
            where = f"hook {path.name} ({hook['path']})"
            try:
                body = json.loads(hook["body"])
            except ValueError:
                self.problems.append(f"{where}: a body that is not JSON")
                continue
            if hook["path"] == "/hooks/slack":
                recipient, channel = by_slack.get(body.get("user")), "slack"
                nid, subject = str(body.get("notification_id")), body.get("text", "")
                text = subject
            elif hook["path"] == "/hooks/teams":
                recipient, channel = by_teams.get(body.get("recipient")), "teams"
                nid = str(body.get("notification_id"))
                card = body["attachments"][0]["content"]["body"]
                subject = text = " ".join(block.get("text", "") for block in card)
            else:
                recipient, channel = body.get("recipient_id"), "webhook"
                nid, subject, text = (
                    str(body.get("id")),
                    body.get("subject", ""),
                    body.get("text", ""),
                )
                if hook["headers"].get("webhook-id") != nid:
                    self.problems.append(f"{where}: webhook-id is not the notification's id")
            if recipient not in people:
                continue
            self.count[(nid, channel)] += 1
            self.bodies[(nid, channel)].add(hook["body"])
            self._filled(where, people, recipient, subject, text)

    def _filled(
        self,
        where: str,
        people: dict[str, tuple[Story, Person]],
        recipient: str,
        subject: str,
        text: str,
    ) -> None:
        """Half-filled: a message that does not name its recipient and the other person of
        their pairing (every notification the stories cause names both), or says None."""
        story, person = people[recipient]
        other = story.other(recipient)
        if other.name not in subject or person.name not in text or "None" in subject + text:
            self.problems.append(
                f"{where}: half-filled for {recipient}: subject {subject[:80]!r}, "
                f"text {text[:120]!r}"
            )
