"""The insights service on the real servers, fed by the producing services' own event classes
over real Kafka topics (a namespace per test), with event times chosen by the test."""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from kamu_goals.domain import events as goals
from kamu_insights.app import create_app
from kamu_insights.projections import PROJECTIONS
from kamu_insights.settings import InsightsSettings
from kamu_meetings.domain import events as meetings
from kamu_notifications.domain import events as notifications
from kamu_pairing.domain import events as pairing
from kamu_shared.auth.mint import mint_token
from kamu_shared.projections.projection import live_schema
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually

SECRET = "insights-tests-secret-of-at-least-32-bytes!"
REGISTRIES = (pairing.registry, meetings.registry, goals.registry, notifications.registry)


@pytest.fixture
async def settings(make_database, kafka_bootstrap):
    return InsightsSettings(
        database_url=await make_database("insights"),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
        topic_namespace=f"t{uuid.uuid4().hex[:10]}",
        consumer_backoff_initial_seconds=0.05,
        consumer_retry_attempts=2,
        log_format="console",
    )


@pytest.fixture
async def upstream(settings):
    async with Upstream(settings.kafka_bootstrap, settings.topic_namespace, REGISTRIES) as up:
        yield up


@pytest.fixture
def start(upstream):
    """Starts the service (lifespan included); several starts on one database are restarts."""

    @asynccontextmanager
    async def run(settings):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield Service(app, settings, upstream)

    return run


@pytest.fixture
async def service(start, settings):
    async with start(settings) as running:
        yield running


def _at(day: str, hour: int = 12) -> datetime:
    """``"2026-03-05"`` at noon UTC: event times in tests are chosen, not taken from the clock."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC) + timedelta(
        hours=hour
    )


@pytest.fixture
def at():
    return _at


class Service:
    def __init__(self, app, settings, upstream: Upstream) -> None:
        self.app = app
        self.settings = settings
        self.upstream = upstream
        self.published = 0

    @property
    def runtime(self):
        return self.app.state.runtime

    @property
    def pool(self):
        return self.runtime.pool

    def as_(self, sub: str = "po-1", *roles: str) -> httpx.AsyncClient:
        token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("people-ops",)))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://insights",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def publish(self, registry, event, subject: str, when: datetime) -> None:
        await self.upstream.publish(registry, event, subject, at=when)
        self.published += 1

    async def settled(self) -> None:
        """Every published event applied by the projections (they record each one)."""

        async def applied():
            total = 0
            for projection in PROJECTIONS:
                total += await self.pool.fetchval(
                    f'SELECT count(*) FROM "{live_schema(projection)}".kamu_applied'
                )
            return total >= self.published

        await eventually(applied, timeout=30)

    # The producing services' events, with only what a figure needs varied ------------------

    async def person(self, pid: str, team: str | None, when: datetime, joined=None) -> None:
        await self.publish(
            pairing.registry,
            pairing.PersonRegistered(
                person_id=pid,
                display_name=f"Person {pid}",
                email=f"{pid}@example.test",
                team=team,
                joined_on=joined,
            ),
            f"person-{pid}",
            when,
        )

    async def team(self, team: str, size: int, when: datetime, prefix: str | None = None):
        """``size`` people in ``team``; returns their ids."""
        ids = [f"{prefix or team.lower()}-{i}" for i in range(1, size + 1)]
        for pid in ids:
            await self.person(pid, team, when)
        return ids

    async def left(self, pid: str, when: datetime) -> None:
        await self.publish(
            pairing.registry, pairing.PersonLeft(person_id=pid), f"person-{pid}", when
        )

    async def kamu(self, pid: str, when: datetime, capacity=2, hours=4.0) -> None:
        await self.publish(
            pairing.registry,
            pairing.KamuVolunteered(person_id=pid, capacity=capacity, hours_per_month=hours),
            f"kamu-{pid}",
            when,
        )

    async def requested(self, pairing_id, colleague, kamu, when) -> None:
        await self.publish(
            pairing.registry,
            pairing.PairingRequested(
                pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu, requested_by=colleague
            ),
            f"pairing-{pairing_id}",
            when,
        )

    async def paired(self, pairing_id, colleague, kamu, when, cadence=2, began=None) -> None:
        await self.publish(
            pairing.registry,
            pairing.PairingCreated(
                pairing_id=pairing_id,
                colleague_id=colleague,
                kamu_id=kamu,
                cadence_weeks=cadence,
                meeting_minutes=60,
                began_at=began,
            ),
            f"pairing-{pairing_id}",
            when,
        )

    async def ended(self, pairing_id, colleague, kamu, when) -> None:
        await self.publish(
            pairing.registry,
            pairing.PairingEnded(
                pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu, ended_by=colleague
            ),
            f"pairing-{pairing_id}",
            when,
        )

    async def meeting(
        self, meeting_id, pairing_id, colleague, kamu, starts: datetime, minutes=60, held=True
    ) -> None:
        ids = {
            "meeting_id": meeting_id,
            "pairing_id": pairing_id,
            "colleague_id": colleague,
            "kamu_id": kamu,
        }
        subject = f"meeting-{meeting_id}"
        await self.publish(
            meetings.registry,
            meetings.MeetingScheduled(
                **ids,
                starts_at=starts,
                time_zone="UTC",
                duration_minutes=minutes,
                scheduled_by=colleague,
            ),
            subject,
            starts - timedelta(days=3),
        )
        if held:
            await self.publish(
                meetings.registry,
                meetings.MeetingHeld(**ids, recorded_by=colleague, held_at=starts),
                subject,
                starts + timedelta(hours=2),
            )

    async def rating(
        self, meeting_id, pairing_id, colleague, kamu, respondent, safety, useful, held
    ) -> None:
        """``respondent`` is ``"colleague"`` or ``"kamu"``."""
        await self.publish(
            meetings.registry,
            meetings.MeetingFeedbackGiven(
                meeting_id=meeting_id,
                pairing_id=pairing_id,
                colleague_id=colleague,
                kamu_id=kamu,
                respondent=respondent,
                psychological_safety=safety,
                usefulness=useful,
                held_at=held,
            ),
            f"meeting-{meeting_id}",
            held + timedelta(hours=3),
        )

    async def overdue(self, pairing_id, colleague, kamu, lapse, since, when) -> None:
        await self.publish(
            meetings.registry,
            meetings.MeetingOverdue(
                pairing_id=pairing_id,
                colleague_id=colleague,
                kamu_id=kamu,
                cadence_weeks=2,
                lapse=lapse,
                since=since,
                nudge="colleague",
            ),
            f"cadence-{pairing_id}",
            when,
        )

    async def goal(self, goal_id, owner, category, when) -> None:
        await self.publish(
            goals.registry,
            goals.GoalSet(
                goal_id=goal_id,
                owner_id=owner,
                title="A goal",
                category=category,
                target_date=(when + timedelta(days=90)).date(),
                review_interval_weeks=4,
                visibility="private",
            ),
            f"goal-{goal_id}",
            when,
        )

    async def reviewed(self, goal_id, owner, on_time, when, meeting=None) -> None:
        await self.publish(
            goals.registry,
            goals.GoalReviewed(
                goal_id=goal_id,
                owner_id=owner,
                reviewed_by=owner,
                reviewer_role="owner",
                outcome="keep",
                on_time=on_time,
                meeting_id=meeting,
            ),
            f"goal-{goal_id}",
            when,
        )

    async def closed(self, goal_id, owner, completed, when) -> None:
        event = (
            goals.GoalCompleted(goal_id=goal_id, owner_id=owner, completed_by=owner)
            if completed
            else goals.GoalAbandoned(goal_id=goal_id, owner_id=owner, abandoned_by=owner)
        )
        await self.publish(goals.registry, event, f"goal-{goal_id}", when)

    async def delivery(self, notification_id, recipient, channel, outcome, when) -> None:
        common = {
            "notification_id": notification_id,
            "recipient_id": recipient,
            "channel": channel,
            "kind": "pairing-requested",
            "cause_id": "cause-1",
        }
        event = {
            "sent": lambda: notifications.NotificationSent(**common, attempts=1),
            "failed": lambda: notifications.NotificationFailed(
                **common, attempts=3, reason="refused"
            ),
            "suppressed": lambda: notifications.NotificationSuppressed(
                **common, reason="preference-off"
            ),
        }[outcome]()
        await self.publish(
            notifications.registry, event, f"notification-{notification_id}-{channel}", when
        )
