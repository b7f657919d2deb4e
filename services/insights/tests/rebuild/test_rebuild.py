"""The insights read models rebuild from the topics alone, with progress, and equal the live
ones; redelivered events change nothing; figures do not depend on the order topics are read."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from kamu_insights.api import answer
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import months_between
from kamu_insights.projections import PROJECTIONS
from kamu_meetings.domain import events as meetings
from kamu_shared.projections.projection import live_schema, snapshot
from kamu_shared.projections.rebuild import rebuild

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
MONTHS = months_between(date(2026, 1, 1), date(2026, 3, 1), NOW)


async def everything(service):
    return {p.name: await snapshot(service.pool, live_schema(p), p.tables) for p in PROJECTIONS}


async def figures(service):
    return {
        name: (await answer(service.runtime, figure, None, None, MONTHS, NOW)).model_dump()
        for name, figure in FIGURES.items()
    }


@pytest.fixture
async def history(service, at):
    """A programme on all four topics; meetings and goals are published before the people and
    pairings they refer to, as a consumer may well read them."""
    team = [f"a-{i}" for i in range(1, 8)]
    for i, person in enumerate(team[:5]):
        day = f"2026-01-{10 + i}"
        await service.meeting(f"m{i}", f"p{i}", person, "k-1", at(day))
        await service.rating(f"m{i}", f"p{i}", person, "k-1", "colleague", 4, 3 + i % 2, at(day))
        await service.goal(f"g{i}", person, "professional", at(day))
        await service.reviewed(f"g{i}", person, i % 2 == 0, at(f"2026-02-{10 + i}"))
        await service.delivery(f"n{i}", person, "email", "sent", at(day))
    for person in team:
        await service.person(person, "A", at("2026-01-02"))
    await service.person("k-1", "B", at("2026-01-02"))
    await service.kamu("k-1", at("2026-01-02"), capacity=5)
    for i, person in enumerate(team[:5]):
        await service.requested(f"p{i}", person, "k-1", at("2026-01-03"))
        await service.paired(f"p{i}", person, "k-1", at(f"2026-01-0{4 + i}"))
    await service.ended("p0", team[0], "k-1", at("2026-02-20"))
    await service.overdue("p1", team[1], "k-1", 1, at("2026-01-11"), at("2026-01-25"))
    await service.left(team[6], at("2026-02-01"))
    await service.settled()


async def test_each_read_model_rebuilds_from_its_topic_and_equals_the_live_one(service, history):
    live, live_figures = await everything(service), await figures(service)
    assert all(rows for tables in live.values() for rows in tables.values())

    for projection in PROJECTIONS:
        progress = []
        report = await rebuild(
            service.pool,
            service.settings.kafka_bootstrap,
            projection,
            progress=progress.append,
            namespace=service.settings.topic_namespace,
        )
        assert report.events > 0
        assert progress[-1].done == progress[-1].total == report.events

    assert await everything(service) == live
    assert await figures(service) == live_figures
    assert live_figures["coverage"]["months"][0]["covered"] == 5


async def test_a_redelivered_event_is_applied_once(service, at):
    for person in (f"a-{i}" for i in range(1, 7)):
        await service.person(person, "A", at("2026-01-02"))
    rating = meetings.MeetingFeedbackGiven(
        meeting_id="m1",
        pairing_id="p1",
        colleague_id="a-1",
        kamu_id="a-2",
        respondent="colleague",
        psychological_safety=5,
        usefulness=5,
        held_at=at("2026-01-10"),
    )
    envelope = await service.upstream.publish(meetings.registry, rating, "meeting-m1")
    await service.upstream.send(meetings.registry, envelope)  # the same event again
    service.published += 1
    # A later event of the same meeting: once it is applied, so is everything before it.
    await service.meeting("m1", "p1", "a-1", "a-2", at("2026-01-10"))
    await service.settled()

    assert await service.pool.fetchval('SELECT count(*) FROM "rm_insights_meetings".ratings') == 1


def test_the_rebuild_command_shows_progress(service, history):
    env = {
        **os.environ,
        "KAMU_DATABASE_URL": service.settings.database_url,
        "KAMU_KAFKA_BOOTSTRAP": service.settings.kafka_bootstrap,
        "KAMU_TOPIC_NAMESPACE": service.settings.topic_namespace,
        "KAMU_JWT_SECRET": service.settings.jwt_secret.get_secret_value(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kamu_insights", "rebuild", "insights_pairing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilding insights_pairing:" in done.stdout
    assert "rebuilt insights_pairing:" in done.stdout
