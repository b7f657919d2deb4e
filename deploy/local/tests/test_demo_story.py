"""The demo story obeys the programme's rules, so every command of it is accepted, and it is the
same story every time (what makes a second load change nothing)."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from kamu_devstack.cli import main
from kamu_devstack.demo.story import (
    HISTORY_DAYS,
    MAX_SIZE,
    MIN_SIZE,
    WEEKS_PER_MONTH,
    Person,
    Story,
    build,
)

ANCHOR = date(2026, 11, 28)


@pytest.fixture(scope="module")
def story() -> Story:
    return build(300, ANCHOR)


def test_the_same_seed_and_anchor_give_the_same_story(story: Story):
    assert build(300, ANCHOR) == story
    assert build(300, ANCHOR, seed=8) != story


def test_an_organisation_of_teams_with_leads_and_volunteers(story: Story):
    leads = {p.id for p in story.people if p.manager_id is None}
    teams = Counter(p.team for p in story.people)

    assert len(story.people) == 300
    assert len(teams) == 25
    assert min(teams.values()) >= 10
    assert all(p.manager_id in leads for p in story.people if p.manager_id)
    assert {p.team for p in story.people if p.id in leads} == set(teams)
    assert len({p.email for p in story.people}) == 300
    assert 30 <= len(story.volunteers) <= 60
    assert any(v.trained_on is None for v in story.volunteers)  # some wait for training
    assert any(v.paused for v in story.volunteers)


def test_pairings_in_every_state_and_nobody_paired_with_their_manager(story: Story):
    people = {p.id: p for p in story.people}

    assert all(story.count(fate) >= 5 for fate in ("ended", "requested", "declined", "withdrawn"))
    assert story.count("active") >= 80
    for pairing in story.pairings:
        colleague, kamu = people[pairing.colleague_id], people[pairing.kamu_id]
        assert colleague.manager_id != kamu.id
        assert kamu.manager_id != colleague.id
    assert max(Counter(p.colleague_id for p in story.pairings).values()) == 1


def test_no_kamu_takes_more_than_their_places_and_hours(story: Story):
    offers = {v.person_id: v for v in story.volunteers}
    active = [p for p in story.pairings if p.fate == "active"]

    for kamu_id, offer in offers.items():
        theirs = [p for p in active if p.kamu_id == kamu_id]
        hours = sum(p.meeting_minutes / 60 * WEEKS_PER_MONTH / p.cadence_weeks for p in theirs)
        assert len(theirs) <= offer.capacity
        assert hours <= offer.hours_per_month
        if theirs:
            assert offer.trained_on is not None
            assert not offer.paused
    asked = {p.kamu_id for p in story.pairings if p.fate == "requested"}
    assert not any(offers[k].paused for k in asked)


def test_history_lies_within_what_the_services_accept(story: Story):
    now = datetime.combine(ANCHOR, time(12), UTC)
    for pairing in story.pairings:
        if pairing.fate not in ("active", "ended"):
            assert pairing.meetings == ()
            assert pairing.goals == ()
            continue
        assert pairing.began_at is not None
        assert now - timedelta(days=400) < pairing.began_at < now
        held = [m for m in pairing.meetings if m.held]
        assert all(pairing.began_at <= m.starts_at < now - timedelta(hours=12) for m in held)
        assert all(m.starts_at > now for m in pairing.meetings if not m.held)
        if pairing.fate == "ended":
            assert all(m.held for m in pairing.meetings)  # nothing upcoming after the end
        goals = {g.key for g in pairing.goals if g.shared}
        assert all(set(m.reviews) <= goals for m in pairing.meetings)


def test_most_joined_years_ago_and_some_during_the_history(story: Story):
    history_began = ANCHOR - timedelta(days=HISTORY_DAYS)
    newcomers = [p for p in story.people if p.joined_on > history_began]
    leads = [p for p in story.people if p.manager_id is None]
    kamus = {v.person_id: v for v in story.volunteers}
    people = {p.id: p for p in story.people}

    assert all(p.joined_on <= ANCHOR - timedelta(days=1) for p in story.people)  # never ahead
    assert 0.10 <= len(newcomers) / len(story.people) <= 0.15
    assert sum(p.joined_on < ANCHOR - timedelta(days=365) for p in story.people) >= 0.8 * 300
    assert all(p.joined_on < ANCHOR - timedelta(days=4 * 365 - 7) for p in leads)
    assert not kamus.keys() & {p.id for p in newcomers}
    for kamu_id, offer in kamus.items():
        assert offer.trained_on is None or offer.trained_on > people[kamu_id].joined_on
    assert len({p.joined_on for p in story.people}) > 100  # spread, not a handful of dates


def test_the_programme_has_more_people_month_by_month(story: Story):
    """Coverage's denominator: people who had joined by the end of each month of the history."""
    there = [
        sum(p.joined_on < end for p in story.people)
        for end in _month_ends(ANCHOR - timedelta(days=HISTORY_DAYS), ANCHOR)
    ]

    assert len(there) == 10  # the months of the history, the anchor's month the last
    assert there == sorted(there)
    assert sum(b > a for a, b in pairwise(there)) >= 7
    assert there[-1] - there[0] >= 0.1 * len(story.people)


def _month_ends(first: date, last: date) -> list[date]:
    """The day after each month, from ``first``'s month to ``last``'s."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        ends.append(date(year, month, 1))
    return ends


def _local_day(at: datetime, person: Person) -> date:
    return at.astimezone(ZoneInfo(person.time_zone)).date()


def test_no_pairing_begins_before_its_two_people_joined(story: Story):
    people = {p.id: p for p in story.people}
    newcomers_with_history = 0

    for pairing in story.pairings:
        colleague, kamu = people[pairing.colleague_id], people[pairing.kamu_id]
        if pairing.began_at is None:  # asked, declined, withdrawn: when loaded, after joining
            continue
        assert _local_day(pairing.began_at, colleague) >= colleague.joined_on
        assert _local_day(pairing.began_at, kamu) >= kamu.joined_on
        assert pairing.began_at >= datetime.combine(colleague.joined_on, time(), UTC)
        assert pairing.began_at >= datetime.combine(kamu.joined_on, time(), UTC)
        newcomers_with_history += colleague.joined_on > ANCHOR - timedelta(days=HISTORY_DAYS)

    assert newcomers_with_history >= 5  # the rule is exercised, not avoided


@pytest.mark.parametrize("size", [MIN_SIZE, 1000, MAX_SIZE])
@pytest.mark.parametrize("seed", [7, 8])
def test_every_size_begins_pairings_after_joining(size: int, seed: int):
    story = build(size, ANCHOR, seed=seed)
    joined = {p.id: p.joined_on for p in story.people}

    for pairing in story.pairings:
        if pairing.began_at is not None:
            latest = max(joined[pairing.colleague_id], joined[pairing.kamu_id])
            assert pairing.began_at >= datetime.combine(latest, time(), UTC)
            assert pairing.began_at < datetime.combine(ANCHOR, time(), UTC)


def test_months_of_meetings_with_feedback(story: Story):
    held = [m for p in story.pairings for m in p.meetings if m.held]
    months = {(m.starts_at.year, m.starts_at.month) for m in held}
    scores = [s for m in held for s in (m.colleague_scores, m.kamu_scores) if s]

    assert len(held) > 400
    assert len(months) >= 6
    assert all(1 <= a <= 5 and 1 <= b <= 5 for a, b in scores)
    assert len(scores) > len(held)


def test_the_progress_total_counts_every_command():
    small = build(30, ANCHOR)
    meetings = [m for p in small.pairings for m in p.meetings]
    goals = [g for p in small.pairings for g in p.goals]
    expected = (
        30
        + len(small.volunteers)
        + sum(bool(v.trained_on) + v.paused for v in small.volunteers)
        + len(small.preferences)
        + sum({"requested": 1, "ended": 3}.get(p.fate, 2) for p in small.pairings)
        + sum(1 + m.held + bool(m.colleague_scores) + bool(m.kamu_scores) for m in meetings)
        + sum(1 + len(g.check_ins) + bool(g.outcome) for g in goals)
    )

    assert small.steps() == expected


@pytest.mark.parametrize("size", [MIN_SIZE, 1000, MAX_SIZE])
def test_every_size_has_people_with_names_and_addresses_of_their_own(size: int):
    people = build(size, ANCHOR).people

    assert len({p.name for p in people}) == size
    assert len({p.email for p in people}) == size


@pytest.mark.parametrize("size", [MIN_SIZE - 1, 0, -5, MAX_SIZE + 1])
def test_a_size_out_of_range_is_refused_clearly(size: int):
    with pytest.raises(ValueError, match=f"{MIN_SIZE} to {MAX_SIZE} people"):
        build(size, ANCHOR)


@pytest.mark.regression  # `--demo-size 5000` looped for ever looking for an unused name
@pytest.mark.parametrize("text", ["19", "2001", "many"])
def test_the_cli_refuses_a_demo_size_out_of_range_before_starting_anything(text: str, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--state-dir", "/nonexistent", "up", "--demo-size", text])

    assert exited.value.code == 2
    assert "--demo-size" in capsys.readouterr().err
