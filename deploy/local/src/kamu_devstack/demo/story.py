"""The demo organisation and its programme history, as a plan: pure and deterministic.

Northwind Oy: a few hundred people in teams, each team with its lead; Kamu volunteers with
their capacity, hours and training; pairings in every state (asked, declined, withdrawn,
active, ended); months of meetings with feedback; goals set, shared, checked in on, reviewed
in meetings, completed or dropped. The same seed and anchor date give the same plan, so a
second load asks for exactly what the first did (and the services' idempotency turns it into
no change).

Times: the pairings with a history are recorded as People Operations moving a running
programme into Kamu: each with the date it really began (``began_at``), and its meetings logged
on their real dates in the past months. Everything else (requests, goals, check-ins, reviews)
happens when it is loaded, because the services stamp events as they record them
(docs/decisions/0012-demo-data-and-history.md).

Start dates (``joined_on``, from HR): leads joined years ago, Kamus at least a year ago, most
people years ago, and about one in eight joined during the months the history covers, so the
programme's coverage has a growing number of people month by month. No pairing begins before
both its people joined: a newcomer gets their Kamu in their first weeks at the earliest.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Fate = Literal["active", "ended", "requested", "declined", "withdrawn"]
Outcome = Literal["keep", "adjust", "completed", "dropped"]
OUTCOMES: tuple[Outcome | None, ...] = (
    None,
    "keep",
    "keep",
    "adjust",
    "completed",
    "completed",
    "dropped",
)

FIRST = [
    "Aino",
    "Eero",
    "Helmi",
    "Ilmari",
    "Juho",
    "Kaisa",
    "Lauri",
    "Maija",
    "Niko",
    "Oona",
    "Pekka",
    "Riikka",
    "Sami",
    "Tiina",
    "Ville",
    "Anna",
    "Mikko",
    "Sofia",
    "Olli",
    "Emma",
    "Leo",
    "Ella",
    "Onni",
    "Aada",
    "Elias",
    "Iida",
    "Veeti",
    "Linnea",
    "Otto",
    "Venla",
    "Priya",
    "Omar",
    "Lena",
    "Mateo",
    "Yuki",
    "Noah",
    "Zara",
    "Lucas",
    "Amira",
    "Jonas",
    "Freja",
    "Hugo",
    "Ines",
    "Karl",
    "Mia",
]
LAST = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Saarinen",
    "Salminen",
    "Heinonen",
    "Niemi",
    "Kinnunen",
    "Salonen",
    "Turunen",
    "Lindholm",
    "Berg",
    "Nguyen",
    "Okafor",
    "Garcia",
    "Svensson",
    "Tanaka",
    "Fischer",
    "Rossi",
    "Novak",
    "Dubois",
    "Kowalski",
    "Andersen",
]
TEAMS = [
    "Payments",
    "Platform",
    "Mobile",
    "Web",
    "Data",
    "Search",
    "Identity",
    "Billing",
    "Support",
    "Design",
    "Research",
    "Marketing",
    "Sales",
    "Finance",
    "People",
    "Legal",
    "Security",
    "Infrastructure",
    "Analytics",
    "Growth",
    "Partnerships",
    "Logistics",
    "Quality",
    "Onboarding",
    "Learning",
]
ZONES = ["Europe/Helsinki"] * 7 + ["Europe/Stockholm"] * 2 + ["Europe/Berlin", "America/New_York"]
TOPICS = [
    "career",
    "leadership",
    "wellbeing",
    "communication",
    "feedback",
    "stress-management",
    "technical-growth",
    "parenting",
    "negotiation",
    "public-speaking",
]
CATEGORIES = ("professional", "personal", "wellbeing", "competence")
GOAL_TITLES = {
    "professional": ("Lead a cross-team project", "Present at the all-hands", "Mentor a trainee"),
    "personal": ("Say no to one meeting a week", "Keep a work journal", "Learn to delegate"),
    "wellbeing": ("Take real lunch breaks", "No email after 18:00", "Walk between meetings"),
    "competence": ("Finish the data course", "Learn the billing domain", "Write better docs"),
}
# Cumulative shares of the people who are not Kamus or leads.
FATE_SHARES: tuple[tuple[Fate, float], ...] = (
    ("active", 0.45),
    ("ended", 0.53),
    ("requested", 0.58),
    ("declined", 0.62),
    ("withdrawn", 0.65),
)
LOAD_ORDER: tuple[Fate, ...] = ("ended", "active", "declined", "withdrawn", "requested")
WEEKS_PER_MONTH = 52 / 12  # as pairing counts a pairing's hours
HISTORY_DAYS = 300  # the oldest pairing began 7 months and 90 days before the anchor
RECENT_SHARE = 0.13  # of the people who are not leads: joined during the history
SETTLING_IN = timedelta(weeks=2)  # a newcomer's pairing begins this long after joining at least
NOTES = (
    "Talked about priorities for the next weeks.",
    "Went through what went well and what did not.",
    "Practised the difficult conversation together.",
    "Agreed on a small experiment to try before next time.",
)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    team: str
    manager_id: str | None
    locale: str
    time_zone: str
    slack_user_id: str | None
    teams_user_id: str | None
    joined_on: date  # the start date in the organisation, from HR


@dataclass(frozen=True)
class Volunteer:
    person_id: str
    capacity: int
    hours_per_month: float
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    trained_on: date | None
    paused: bool = False


@dataclass(frozen=True)
class Meeting:
    key: str
    starts_at: datetime
    time_zone: str
    held: bool
    notes: str | None
    colleague_scores: tuple[int, int] | None  # (psychological safety, usefulness)
    kamu_scores: tuple[int, int] | None
    reviews: tuple[str, ...] = ()  # goal keys reviewed in this meeting


@dataclass(frozen=True)
class Goal:
    key: str
    title: str
    category: str
    target_date: date
    shared: bool
    check_ins: tuple[tuple[int, str], ...]  # (percent, on-track|at-risk|blocked)
    outcome: "Outcome | None"


@dataclass(frozen=True)
class Pairing:
    key: str
    colleague_id: str
    kamu_id: str
    fate: Fate
    cadence_weeks: int
    meeting_minutes: int
    message: str
    began_at: datetime | None = None  # recorded by People Operations with its real start
    meetings: tuple[Meeting, ...] = ()
    goals: tuple[Goal, ...] = ()


@dataclass(frozen=True)
class Preference:
    person_id: str
    webhook: bool
    quiet_hours: tuple[str, str] | None
    digest: bool
    email: bool = True


@dataclass
class Story:
    """Everything the demo loads, in the order it is loaded."""

    anchor: date
    people: list[Person] = field(default_factory=list)
    volunteers: list[Volunteer] = field(default_factory=list)
    pairings: list[Pairing] = field(default_factory=list)
    preferences: list[Preference] = field(default_factory=list)

    def count(self, fate: Fate) -> int:
        return sum(1 for p in self.pairings if p.fate == fate)

    def steps(self) -> int:
        """HTTP commands the load sends (for its progress display)."""
        meetings = [m for p in self.pairings for m in p.meetings]
        goals = [g for p in self.pairings for g in p.goals]
        return (
            len(self.people)
            + sum(2 if v.trained_on else 1 for v in self.volunteers)
            + sum(1 for v in self.volunteers if v.paused)
            + len(self.preferences)
            + sum(1 if p.fate == "requested" else 2 for p in self.pairings)
            + self.count("ended")
            + sum(1 + m.held + bool(m.colleague_scores) + bool(m.kamu_scores) for m in meetings)
            + sum(1 + len(g.check_ins) + bool(g.outcome) for g in goals)
        )


MIN_SIZE, MAX_SIZE = 20, 2000
DAY = timedelta(days=1)


def build(size: int = 300, anchor: date | None = None, seed: int = 7) -> Story:
    """The organisation of ``size`` people (``MIN_SIZE`` to ``MAX_SIZE``) and its history up
    to ``anchor`` (today)."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"a demo has {MIN_SIZE} to {MAX_SIZE} people, not {size}")
    rng = random.Random(seed)  # noqa: S311 (a story, not a secret)
    story = Story(anchor=anchor or datetime.now(UTC).date())
    _people(story, rng, size, random.Random(f"{seed}:joined"))  # noqa: S311
    _volunteers(story, rng)
    _pairings(story, rng)
    _preferences(story, rng)
    return story


def _people(story: Story, rng: random.Random, size: int, joining: random.Random) -> None:
    teams = TEAMS[: max(2, min(len(TEAMS), size // 12))]
    names: set[str] = set()
    # Start dates come from a stream of their own: names, teams and contacts stay as they were.
    others = range(len(teams), size)  # everyone but the leads
    recent = set(joining.sample(others, k=round(len(others) * RECENT_SHARE)))
    for n in range(size):
        team = teams[n % len(teams)]
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name in names:  # namesakes happen; a middle initial tells them apart
            name = name.replace(" ", f" {chr(65 + n % 26)}. ", 1)
        if name in names:
            name = f"{name} {n + 1}"
        names.add(name)
        lead = n < len(teams)  # the first person of each team leads it
        person_id = f"demo-{n + 1:04d}"
        zone = rng.choice(ZONES)
        story.people.append(
            Person(
                id=person_id,
                name=name,
                email=f"{name.lower().replace(' ', '.')}@northwind.example",
                team=team,
                manager_id=None if lead else f"demo-{teams.index(team) + 1:04d}",
                locale="fi" if zone == "Europe/Helsinki" and rng.random() < 0.5 else "en",
                time_zone=zone,
                slack_user_id=f"U{n + 1:06d}" if rng.random() < 0.35 else None,
                teams_user_id=f"29:demo-{n + 1}" if rng.random() < 0.15 else None,
                joined_on=_joined_on(story.anchor, joining, lead=lead, recent=n in recent),
            )
        )


def _joined_on(anchor: date, rng: random.Random, *, lead: bool, recent: bool) -> date:
    """A Monday: leads 4 to 12 years ago, newcomers during the history (spread over its months),
    everyone else 1 to 10 years ago."""
    if lead:
        days = rng.randint(4 * 365, 12 * 365)
    elif recent:
        days = rng.randint(7, HISTORY_DAYS - 6)
    else:
        days = rng.randint(365, 10 * 365)
    day = anchor - timedelta(days=days)
    return day - timedelta(days=day.weekday())


def _volunteers(story: Story, rng: random.Random) -> None:
    leads = {p.id for p in story.people if p.manager_id is None}
    newcomers = {p.id for p in story.people if p.joined_on > story.anchor - HISTORY_DAYS * DAY}
    # Kamus are people who know the place: nobody who joined during the history volunteers.
    candidates = [p for p in story.people if p.id not in leads | newcomers]
    chosen = rng.sample(candidates, k=max(4, len(story.people) * 3 // 20))
    for i, person in enumerate(chosen):
        trained = i < len(chosen) * 9 // 10  # a few volunteers still wait for their training
        story.volunteers.append(
            Volunteer(
                person_id=person.id,
                capacity=rng.choice((2, 3, 3, 4)),
                hours_per_month=float(rng.choice((6, 8, 8, 10))),
                topics=tuple(sorted(rng.sample(TOPICS, k=3))),
                languages=("en", "fi") if person.locale == "fi" else ("en",),
                trained_on=max(
                    story.anchor - timedelta(days=rng.randint(200, 400)),
                    person.joined_on + SETTLING_IN,  # trained once they were here
                )
                if trained
                else None,
                paused=trained and i % 17 == 5,
            )
        )


def _pairings(story: Story, rng: random.Random) -> None:
    kamus = {v.person_id for v in story.volunteers}
    people = {p.id: p for p in story.people}
    colleagues = [p for p in story.people if p.id not in kamus and p.manager_id is not None]
    rng.shuffle(colleagues)
    trained = [v for v in story.volunteers if v.trained_on and not v.paused]
    open_to_asks = [v for v in story.volunteers if not v.paused]  # untrained ones too
    places = {v.person_id: v.capacity for v in trained}
    hours = {v.person_id: v.hours_per_month for v in trained}
    n = 0
    for colleague in colleagues:
        fate = _newcomer(story, colleague, _fate(rng.random()))
        if fate is None:
            continue
        cadence, minutes = rng.choice((2, 3, 4, 4)), rng.choice((45, 60))
        cost = minutes / 60 * WEEKS_PER_MONTH / cadence
        options = [
            k
            for k in (open_to_asks if fate == "requested" else trained)
            if people[k.person_id].team != colleague.team
            and (fate != "active" or (places[k.person_id] and hours[k.person_id] >= cost + 0.01))
        ]
        if not options:
            continue
        kamu = rng.choice(options)
        if fate == "active":
            places[kamu.person_id] -= 1
            hours[kamu.person_id] -= cost
        n += 1
        pairing = Pairing(
            key=f"p{n:03d}",
            colleague_id=colleague.id,
            kamu_id=kamu.person_id,
            fate=fate,
            cadence_weeks=cadence,
            meeting_minutes=minutes,
            message="I would like someone to think out loud with.",
        )
        if fate in ("active", "ended"):
            pairing = _history(story, rng, pairing, colleague, people[kamu.person_id])
        story.pairings.append(pairing)
    story.pairings.sort(key=lambda p: LOAD_ORDER.index(p.fate))


def _newcomer(story: Story, colleague: Person, fate: Fate | None) -> Fate | None:
    """A pairing begins after settling in: who joined in the last month has only asked, and a
    pairing that has already ended needs its months (it goes on instead)."""
    joined = colleague.joined_on
    if fate in ("active", "ended") and joined + SETTLING_IN > story.anchor - 16 * DAY:
        return "requested"
    if fate == "ended" and joined > story.anchor - 150 * DAY:
        return "active"
    return fate


def _fate(roll: float) -> Fate | None:
    """About half the people have a Kamu now; some had one; some asks are open or answered no."""
    for fate, below in FATE_SHARES:
        if roll < below:
            return fate
    return None


def _history(
    story: Story, rng: random.Random, pairing: Pairing, colleague: Person, kamu: Person
) -> Pairing:
    """Meetings every ``cadence`` weeks since the pairing began (not before both joined and
    settled in), some missed; goals."""
    zone = ZoneInfo(colleague.time_zone)
    months = rng.randint(2, 7)
    ends = story.anchor - timedelta(days=rng.randint(20, 60)) if pairing.fate == "ended" else None
    day = story.anchor - timedelta(days=30 * months + (90 if ends else 0))
    day = max(day, max(colleague.joined_on, kamu.joined_on) + SETTLING_IN)
    began = datetime.combine(day, time(9), zone).astimezone(UTC)
    last = ends or story.anchor
    goals = _goals(story, rng, pairing.key)
    meetings: list[Meeting] = []
    warmth = rng.uniform(-0.5, 0.5)  # some pairs click sooner than others
    overdue = pairing.fate == "active" and rng.random() < 0.12  # a few pairs stopped meeting
    if overdue:
        last = story.anchor - timedelta(weeks=pairing.cadence_weeks * 3)
    while day < last - timedelta(days=1):
        day += timedelta(weeks=pairing.cadence_weeks, days=rng.randint(-2, 2))
        if day >= last or rng.random() < 0.1:
            continue  # a skipped meeting
        starts = datetime.combine(day, time(rng.choice((9, 10, 13, 14, 15))), zone)
        trust = min(5, max(1, round(3.6 + warmth + 0.15 * len(meetings) + rng.gauss(0, 0.5))))
        use = min(5, max(1, round(3.4 + warmth + 0.1 * len(meetings) + rng.gauss(0, 0.6))))
        meetings.append(
            Meeting(
                key=f"{pairing.key}-m{len(meetings) + 1:02d}",
                starts_at=starts.astimezone(UTC),
                time_zone=colleague.time_zone,
                held=True,
                notes=rng.choice(NOTES) if rng.random() < 0.7 else None,
                colleague_scores=(trust, use) if rng.random() < 0.85 else None,
                kamu_scores=(min(5, trust + 1), use) if rng.random() < 0.6 else None,
            )
        )
    if meetings and goals:  # the latest meeting reviewed the shared goals
        shared = tuple(g.key for g in goals if g.shared and g.outcome)
        meetings[-1] = Meeting(**{**vars(meetings[-1]), "reviews": shared})
    if pairing.fate == "active" and not overdue and rng.random() < 0.8:
        when = story.anchor + timedelta(days=rng.randint(2, 20))
        meetings.append(
            Meeting(
                key=f"{pairing.key}-m{len(meetings) + 1:02d}",
                starts_at=datetime.combine(when, time(10), zone).astimezone(UTC),
                time_zone=colleague.time_zone,
                held=False,
                notes=None,
                colleague_scores=None,
                kamu_scores=None,
            )
        )
    history = {"began_at": began, "meetings": tuple(meetings), "goals": goals}
    return Pairing(**{**vars(pairing), **history})


def _goals(story: Story, rng: random.Random, key: str) -> tuple[Goal, ...]:
    if rng.random() < 0.3:
        return ()
    goals = []
    for g in range(rng.choice((1, 1, 2))):
        category = rng.choice(CATEGORIES)
        progress = sorted(rng.sample(range(10, 100, 10), k=rng.randint(1, 3)))
        outcome: Outcome | None = rng.choice(OUTCOMES)
        goals.append(
            Goal(
                key=f"{key}-g{g + 1}",
                title=rng.choice(GOAL_TITLES[category]),
                category=category,
                target_date=story.anchor + timedelta(days=rng.randint(30, 240)),
                shared=rng.random() < 0.8,
                check_ins=tuple(
                    (p, "on-track" if rng.random() < 0.7 else rng.choice(("at-risk", "blocked")))
                    for p in progress
                ),
                outcome=outcome,
            )
        )
    return tuple(goals)


def _preferences(story: Story, rng: random.Random) -> None:
    for person in story.people:
        roll = rng.random()
        if roll < 0.04:
            story.preferences.append(Preference(person.id, True, None, False))
        elif roll < 0.10:
            story.preferences.append(Preference(person.id, False, ("18:00", "08:00"), False))
        elif roll < 0.14:
            story.preferences.append(Preference(person.id, False, None, True))
        elif roll < 0.16:
            story.preferences.append(Preference(person.id, False, None, False, email=False))
