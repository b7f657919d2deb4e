"""A synthetic organisation for the insights benchmark: seeded, realistic in shape, and given
both as the producing services' own events and as the fact rows the insights projections make
of those events (so the two ways of filling the tables can be checked against each other).

People in teams of 5 to 40 with HR start dates (15% join during the year, 3% leave), 15% of
them Kamus (capacity 3 to 6, most trained), a pairing requested for about 60% of the others
(some declined first, a few moved in with their history, a few ended), meetings every 2 to 4
weeks for the programme's 13 months (some cancelled, lapses of cadence recorded), ratings by
either member, goals with reviews and outcomes, and the outcome of every notification.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kamu_goals.domain import events as goals
from kamu_insights.projections.goals import SCHEMA as GOALS
from kamu_insights.projections.meetings import SCHEMA as MEETINGS
from kamu_insights.projections.notifications import SCHEMA as NOTIFICATIONS
from kamu_insights.projections.pairing import SCHEMA as PAIRING
from kamu_meetings.domain import events as meetings
from kamu_notifications.domain import events as notifications
from kamu_pairing.domain import events as pairing
from kamu_shared.events import DomainEvent, EventRegistry

REGISTRIES = (pairing.registry, meetings.registry, goals.registry, notifications.registry)
# Each insights schema and its fact tables, in the projections' column order.
TABLES = {
    PAIRING: ("people", "kamus", "pairings"),
    MEETINGS: ("meetings", "ratings", "lapses"),
    GOALS: ("goals", "reviews"),
    NOTIFICATIONS: ("deliveries",),
}
CATEGORIES = ("professional", "personal", "wellbeing", "competence")
CHANNELS = ("email", "email", "email", "slack", "teams", "inapp", "webhook")
OUTCOMES: dict[str, tuple[type[DomainEvent], dict[str, Any]]] = {
    "sent": (notifications.NotificationSent, {"attempts": 1}),
    "failed": (notifications.NotificationFailed, {"attempts": 3, "reason": "refused"}),
    "suppressed": (notifications.NotificationSuppressed, {"reason": "preference-off"}),
}
Row = tuple[object, ...]


@dataclass(frozen=True)
class Planned:
    """One event to publish: as the producing service encodes it, at a chosen time."""

    registry: EventRegistry
    event: DomainEvent
    subject: str
    at: datetime
    id: uuid.UUID


@dataclass
class _Pairing:
    ids: dict[str, str]  # pairing_id, colleague_id, kamu_id
    paired_at: datetime
    cadence: int
    closed_at: datetime | None


@dataclass
class Organisation:
    """``facts[(schema, table)]``: rows; ``events``: the plan (empty unless asked for)."""

    people: int
    now: datetime
    facts: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    events: list[Planned] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(rows) for rows in self.facts.values())


class _Builder:
    def __init__(self, people: int, now: datetime, seed: int, with_events: bool) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
        self.ids = random.Random(seed + 1)  # noqa: S311 - event ids, drawn whether or not used
        self.now = now.replace(microsecond=0)
        self.start = self.now - timedelta(days=395)  # the programme began 13 months ago
        self.with_events = with_events
        self.org = Organisation(people, self.now)
        for schema, tables in TABLES.items():
            for table in tables:
                self.org.facts[(schema, table)] = []
        self.left: dict[str, datetime] = {}
        self.channel: dict[str, str] = {}
        self.notices = 0

    # helpers ------------------------------------------------------------------------------

    def fact(self, schema: str, table: str, *row: object) -> None:
        self.org.facts[(schema, table)].append(row)

    def emit(
        self,
        registry: EventRegistry,
        subject: str,
        at: datetime,
        cls: type[DomainEvent],
        /,
        **fields: Any,
    ) -> uuid.UUID:
        """Plan ``cls(**fields)`` (built only when events are wanted); returns its id."""
        event_id = uuid.UUID(int=self.ids.getrandbits(128), version=4)
        if self.with_events:
            self.org.events.append(Planned(registry, cls(**fields), subject, at, event_id))
        return event_id

    def after(self, at: datetime, low: float, high: float) -> datetime:
        """A moment ``low`` to ``high`` days after ``at``, to the second."""
        return at + timedelta(seconds=round(self.rng.uniform(low, high) * 86400))

    def notify(self, recipient: str, kind: str, at: datetime) -> None:
        if at >= self.now:
            return
        self.notices += 1
        nid = f"n{self.notices:08d}"
        channel = self.channel[recipient]
        draw = self.rng.random()
        outcome = "sent" if draw < 0.9 else "failed" if draw < 0.93 else "suppressed"
        event, extra = OUTCOMES[outcome]
        self.emit(
            notifications.registry,
            f"notification-{nid}-{channel}",
            at,
            event,
            notification_id=nid,
            recipient_id=recipient,
            channel=channel,
            kind=kind,
            cause_id=f"cause-{nid}",
            **extra,
        )
        self.fact(NOTIFICATIONS, "deliveries", nid, channel, recipient, outcome, at)

    # the organisation ---------------------------------------------------------------------

    def build(self) -> Organisation:
        people = self.people()
        kamus = self.kamus(people)
        for made in self.pairings(people, kamus):
            self.meetings(made)
            self.goals(made)
        self.org.events.sort(key=lambda p: p.at)  # stable: one subject's events keep their order
        return self.org

    def people(self) -> list[tuple[str, datetime]]:
        """(person, registered at) for everyone, in teams of 5 to 40."""
        found = []
        team, left_in_team = 0, 0
        for i in range(self.org.people):
            if left_in_team == 0:
                team, left_in_team = team + 1, self.rng.randint(5, 40)
            left_in_team -= 1
            pid = f"p{i:06d}"
            name = f"team-{team:05d}" if self.rng.random() > 0.01 else None
            if self.rng.random() < 0.85:
                joined = (self.start - timedelta(days=self.rng.uniform(30, 3650))).date()
                registered = self.after(self.start, 0, 2)
            else:
                registered = self.after(self.start, 7, 380)
                joined = (registered + timedelta(days=7)).date()
            left: datetime | None = self.after(registered, 60, 400)
            if self.rng.random() >= 0.03 or left is None or left >= self.now:
                left = None
            self.channel[pid] = self.rng.choice(CHANNELS)
            subject = f"person-{pid}"
            self.emit(
                pairing.registry,
                subject,
                registered,
                pairing.PersonRegistered,
                person_id=pid,
                display_name=f"Person {pid}",
                email=f"{pid}@example.org",
                team=name,
                joined_on=joined,
            )
            if left is not None:
                self.left[pid] = left
                self.emit(pairing.registry, subject, left, pairing.PersonLeft, person_id=pid)
            self.fact(PAIRING, "people", pid, name, joined, registered, left)
            found.append((pid, registered))
        return found

    def kamus(self, people: list[tuple[str, datetime]]) -> dict[str, int]:
        """Trained Kamus and their capacity (untrained volunteers take no colleagues)."""
        trained: dict[str, int] = {}
        for pid, registered in people:
            if self.rng.random() >= 0.15 or pid in self.left:
                continue
            at = self.after(max(registered, self.start), 0, 45)
            capacity = self.rng.randint(3, 6)
            hours = float(self.rng.choice((4, 6, 8, 10, 12, 16)))
            subject = f"kamu-{pid}"
            self.emit(
                pairing.registry,
                subject,
                at,
                pairing.KamuVolunteered,
                person_id=pid,
                capacity=capacity,
                hours_per_month=hours,
            )
            trained_on: date | None = None
            if self.rng.random() < 0.92:
                done = self.after(at, 3, 30)
                trained_on = done.date()
                self.emit(
                    pairing.registry,
                    subject,
                    done,
                    pairing.KamuTrainingCompleted,
                    person_id=pid,
                    training="Kamu basics",
                    completed_on=trained_on,
                )
                trained[pid] = capacity
            self.fact(PAIRING, "kamus", pid, capacity, hours, at, trained_on, False, None)
        return trained

    def pairings(self, people: list[tuple[str, datetime]], kamus: dict[str, int]) -> list[_Pairing]:
        """A request for about 60% of the colleagues: 35% at the launch, the rest over the year."""
        free = dict(kamus)
        made = []
        for pid, registered in people:
            if pid in kamus or self.rng.random() >= 0.6:
                continue
            if self.rng.random() < 0.05:
                made += self.requested(pid, free, None)
                continue
            earliest = max(registered, self.start)
            launch = self.rng.random() < 0.35
            asked = self.after(earliest, 0, 30 if launch else 390)
            if asked >= self.now - timedelta(days=1) or asked >= self.left.get(pid, self.now):
                continue
            if self.rng.random() < 0.08:
                asked = self.refused(pid, free, asked)
            made += self.requested(pid, free, asked)
        return made

    def pick(self, pid: str, free: dict[str, int], take: bool = True) -> str | None:
        """A trained Kamu with room for one more colleague (not the colleague themself)."""
        if not free:
            return None
        kamu = self.rng.choice(list(free))
        if kamu == pid:
            return None
        if take:
            free[kamu] -= 1
            if free[kamu] == 0:
                del free[kamu]
        return kamu

    def pairing_ids(self, pid: str, kamu: str) -> dict[str, str]:
        number = len(self.org.facts[(PAIRING, "pairings")])
        return {"pairing_id": f"x{number:08d}", "colleague_id": pid, "kamu_id": kamu}

    def refused(self, pid: str, free: dict[str, int], asked: datetime) -> datetime:
        """A first request declined (or withdrawn); returns when the next one is made."""
        kamu = self.pick(pid, free, take=False)
        if kamu is None:
            return asked
        ids = self.pairing_ids(pid, kamu)
        subject = f"pairing-{ids['pairing_id']}"
        self.emit(
            pairing.registry, subject, asked, pairing.PairingRequested, **ids, requested_by=pid
        )
        self.notify(kamu, "pairing-requested", asked + timedelta(seconds=30))
        closed = self.after(asked, 1, 5)
        declined = self.rng.random() < 0.8
        event = pairing.PairingDeclined if declined else pairing.PairingWithdrawn
        self.emit(pairing.registry, subject, closed, event, **ids)
        status = "declined" if declined else "withdrawn"
        self.fact(PAIRING, "pairings", *ids.values(), status, asked, None, False, None, closed)
        return self.after(closed, 0.5, 3)

    def requested(self, pid: str, free: dict[str, int], asked: datetime | None) -> list[_Pairing]:
        """A request answered within two weeks (or still waiting); ``asked`` None: a pairing
        moved into Kamu with its history, begun before the programme."""
        kamu = self.pick(pid, free)
        if kamu is None:
            return []
        ids = self.pairing_ids(pid, kamu)
        subject = f"pairing-{ids['pairing_id']}"
        if asked is None:
            began: datetime | None = self.start - timedelta(days=self.rng.randint(30, 300))
            paired = self.after(self.start, 0, 3)
        else:
            began = None
            self.emit(
                pairing.registry, subject, asked, pairing.PairingRequested, **ids, requested_by=pid
            )
            self.notify(kamu, "pairing-requested", asked + timedelta(seconds=30))
            paired = self.after(asked, 0.2, 14)
            if paired >= self.now:  # still waiting for an answer
                self.fact(
                    PAIRING, "pairings", *ids.values(), "requested", asked, None, False, None, None
                )
                return []
        cadence = self.rng.choice((2, 2, 3, 4))
        self.emit(
            pairing.registry,
            subject,
            paired,
            pairing.PairingCreated,
            **ids,
            cadence_weeks=cadence,
            meeting_minutes=60,
            began_at=began,
        )
        self.notify(pid, "pairing-accepted", paired + timedelta(seconds=30))
        closed = self.left.get(pid)
        if closed is None and self.rng.random() < 0.05:
            closed = self.after(paired, 60, 300)
        if closed is not None and (closed >= self.now or closed <= paired):
            closed = None
        if closed is not None:
            self.emit(pairing.registry, subject, closed, pairing.PairingEnded, **ids, ended_by=pid)
        status = "active" if closed is None else "ended"
        row = (status, asked, began or paired, began is not None, cadence, closed)
        self.fact(PAIRING, "pairings", *ids.values(), *row)
        return [_Pairing(ids, paired, cadence, closed)]

    def meetings(self, p: _Pairing) -> None:
        """Every cadence (a few days either way, one gap in five much longer, which the
        meetings service records as a lapse) from the pairing until it closes; the next one
        scheduled ahead."""
        end = p.closed_at or self.now + timedelta(days=60)
        day = self.after(p.paired_at, 3, 21)
        while day < end:
            starts = datetime.combine(day.date(), time(self.rng.randint(8, 16)), UTC)
            scheduled = max(p.paired_at, starts - timedelta(days=self.rng.randint(2, 10)))
            if scheduled >= self.now or starts >= end:
                return
            self.meeting(p, starts, scheduled)
            if starts >= self.now:
                return
            late = self.rng.random() < 0.2
            gap = p.cadence * 7 + (self.rng.randint(5, 21) if late else self.rng.randint(-4, 0))
            due = starts + timedelta(weeks=p.cadence)
            if late and due < min(self.now, end):
                self.emit(
                    meetings.registry,
                    f"cadence-{p.ids['pairing_id']}",
                    due,
                    meetings.MeetingOverdue,
                    **p.ids,
                    cadence_weeks=p.cadence,
                    lapse=1,
                    since=starts,
                    nudge="colleague",
                )
                self.fact(MEETINGS, "lapses", p.ids["pairing_id"], starts, 1, due)
            day = starts + timedelta(days=gap)

    def meeting(self, p: _Pairing, starts: datetime, scheduled: datetime) -> None:
        number = len(self.org.facts[(MEETINGS, "meetings")])
        full = {"meeting_id": f"m{number:08d}", **p.ids}
        subject = f"meeting-{full['meeting_id']}"
        colleague, kamu = p.ids["colleague_id"], p.ids["kamu_id"]
        minutes = self.rng.choice((30, 45, 60, 60, 90))
        self.emit(
            meetings.registry,
            subject,
            scheduled,
            meetings.MeetingScheduled,
            **full,
            starts_at=starts,
            time_zone="Europe/Helsinki",
            duration_minutes=minutes,
            scheduled_by=colleague,
        )
        reminder = starts - timedelta(days=1)
        if reminder > scheduled:
            self.notify(colleague, "meeting-reminder", reminder)
            self.notify(kamu, "meeting-reminder", reminder + timedelta(seconds=1))
        row = (full["meeting_id"], full["pairing_id"], kamu)
        if starts >= self.now:
            self.fact(MEETINGS, "meetings", *row, "scheduled", starts, minutes, None)
            return
        if self.rng.random() < 0.07:
            cancelled = max(scheduled + timedelta(hours=1), starts - timedelta(days=1))
            self.emit(
                meetings.registry,
                subject,
                cancelled,
                meetings.MeetingCancelled,
                **full,
                cancelled_by=kamu,
                starts_at=starts,
            )
            self.fact(MEETINGS, "meetings", *row, "cancelled", starts, minutes, None)
            return
        recorded = starts + timedelta(minutes=minutes + 30)
        self.emit(
            meetings.registry,
            subject,
            recorded,
            meetings.MeetingHeld,
            **full,
            recorded_by=colleague,
            held_at=starts,
        )
        self.fact(MEETINGS, "meetings", *row, "held", starts, minutes, starts)
        for respondent, rater, chance in (("colleague", colleague, 0.55), ("kamu", kamu, 0.35)):
            if self.rng.random() >= chance:
                continue
            safety = self.rng.choice((3, 4, 4, 5, 5, 5))
            useful = self.rng.choice((2, 3, 4, 4, 5))
            rated = recorded + timedelta(hours=self.rng.randint(1, 48))
            if rated >= self.now:
                continue
            self.emit(
                meetings.registry,
                subject,
                rated,
                meetings.MeetingFeedbackGiven,
                **full,
                respondent=respondent,
                psychological_safety=safety,
                usefulness=useful,
                held_at=starts,
            )
            rating = (respondent, rater, full["pairing_id"], colleague, safety, useful, starts)
            self.fact(MEETINGS, "ratings", full["meeting_id"], *rating)

    def goals(self, p: _Pairing) -> None:
        """About half the colleagues set a goal, some a second; reviewed every 4 or 6 weeks."""
        if self.rng.random() >= 0.55:
            return
        owner = p.ids["colleague_id"]
        stop = min(self.now, self.left.get(owner, self.now))
        set_at = self.after(p.paired_at, 7, 60)
        for n in range(2 if self.rng.random() < 0.25 else 1):
            if n:
                set_at = self.after(set_at, 30, 120)
            if set_at >= stop:
                return
            self.goal(owner, set_at, stop)

    def goal(self, owner: str, set_at: datetime, stop: datetime) -> None:
        ids = {"goal_id": f"g{len(self.org.facts[(GOALS, 'goals')]):08d}", "owner_id": owner}
        subject = f"goal-{ids['goal_id']}"
        category = self.rng.choice(CATEGORIES)
        weeks = self.rng.choice((4, 6))
        self.emit(
            goals.registry,
            subject,
            set_at,
            goals.GoalSet,
            **ids,
            title="A goal",
            category=category,
            target_date=(set_at + timedelta(days=120)).date(),
            review_interval_weeks=weeks,
            visibility="kamu",
        )
        draw = self.rng.random()
        closed: datetime | None = None
        status = "active"
        if draw < 0.25:
            closed, status = self.after(set_at, 90, 240), "completed"
        elif draw < 0.32:
            closed, status = self.after(set_at, 30, 200), "abandoned"
        if closed is not None and closed >= stop:
            closed, status = None, "active"
        reviewed = self.after(set_at, weeks * 7 - 5, weeks * 7 + 12)
        while reviewed < (closed or stop):
            on_time = self.rng.random() < 0.75
            meeting = f"m-{ids['goal_id']}" if self.rng.random() < 0.4 else None
            event_id = self.emit(
                goals.registry,
                subject,
                reviewed,
                goals.GoalReviewed,
                **ids,
                reviewed_by=owner,
                reviewer_role="owner",
                outcome="keep",
                on_time=on_time,
                meeting_id=meeting,
            )
            review = (ids["goal_id"], owner, reviewed, on_time, meeting is not None)
            self.fact(GOALS, "reviews", event_id, *review)
            reviewed = self.after(reviewed, weeks * 7 - 5, weeks * 7 + 12)
        if closed is not None:
            if status == "completed":
                self.emit(
                    goals.registry, subject, closed, goals.GoalCompleted, **ids, completed_by=owner
                )
            else:
                self.emit(
                    goals.registry, subject, closed, goals.GoalAbandoned, **ids, abandoned_by=owner
                )
        self.fact(GOALS, "goals", *ids.values(), category, set_at, status, closed)


def organisation(people: int, now: datetime, *, events: bool, seed: int = 7) -> Organisation:
    """The organisation of ``people`` as of ``now``: its fact rows, and its events if asked.

    The same ``people``, ``now`` and ``seed`` give the same rows with or without events."""
    return _Builder(people, now, seed, events).build()
