"""Which Kamus to suggest to a colleague, and why: ``GET /kamus/suggestions?for=&limit=``.

Pure: no I/O, no clock unless ``now`` is left out. The service passes in its read model of the
volunteers (``Candidate``) and of the colleague asking (``Seeker``); policy values
(``pairing_hours``, ``training_required``) come from its settings.

Eligibility
-----------
A candidate is never suggested unless every rule of ``eligible`` holds: not the seeker, not in
``seeker.excluded``, status ``"active"`` and still in the organisation, a free place
(``active_colleagues < capacity``), hours for one more pairing
(``hours_used + pairing_hours <= hours_per_month``), trained when training is required, and
neither the seeker's manager nor the seeker's direct report (a Kamu is a peer, never a
superior, and a manager is not their report's Kamu either).

Scoring
-------
An eligible candidate's score is a weighted sum of the factors below; the weights are the one
table ``WEIGHTS``. Every factor that adds points adds a ``Reason`` (code and a short detail for
the person), so a suggestion can always say why it is there. Penalties add no reason: the
missing reason (no ``shared-languages``, no ``different-team``) tells the same story.

==================== ======================================================= =========
factor               points                                                  reason
==================== ======================================================= =========
free capacity        ``free_capacity`` x the mean of the free share of       always
                     places and of monthly hours (0..1]
shared topics        ``shared_topic`` per topic the seeker asked for and     if any
                     the candidate offers, counted up to ``max_topics``
languages            ``shared_language`` if they share one; when either      if shared
                     side lists none, ``unknown_language`` (a heavy
                     penalty); when both list some and none match,
                     ``no_common_language``, which puts them last
team                 ``different_team`` if both teams are known and          if
                     differ; ``same_team`` (small penalty) if the same       different
time zone            ``close_time_zone`` x (1 - hours apart /                if closer
                     ``time_zone_horizon_hours``), 0 beyond the horizon      than the
                                                                             horizon
training             ``trained`` if the candidate completed the training     if trained
==================== ======================================================= =========

Why these weights:

- **Topics lead** (3 per topic): the seeker said what they want support on, and a Kamu who
  offers it is the whole point. One shared topic outweighs any single secondary factor (the
  largest swing is the team's, 2.5), and three outweigh all of them together (free capacity 2,
  team 2.5, time zone 2, training 1: 7.5). Counting stops at five so a Kamu who lists
  everything does not run away with the ranking.
- **A shared language is nearly required.** Both listing languages and sharing none means the
  two cannot talk: the candidate stays eligible (the seeker may still choose them; an
  interpreter, a shared third language not on file) but ``no_common_language`` (-100) is larger
  than the whole spread of every other factor (without it a score lies between -5 and 23.5), so
  they always come after everyone else. Unknown languages (a side lists none) cost 4, so a
  confirmed shared language is worth 6 points more than an unknown one, as much as two shared
  topics: it wins unless the unknown one is a clearly better match on topics.
- **Different team** (+1.5, same team -1): support from outside the team is easier to speak
  openly to, and it spreads knowledge; within the team it is still allowed.
- **Time zone** (up to 2, linear over 6 hours): meetings need overlapping working hours; 6 hours
  apart leaves about 2 overlapping hours of an 8-hour day, and beyond that closeness no longer
  helps. Offsets are compared at ``now`` (so DST is whatever it is today), on the 24-hour
  circle (UTC+14 and UTC-10 keep the same clock).
- **Free capacity** (up to 2): ranks lightly loaded Kamus first so work spreads, but never
  beats a topic.
- **Training** (+1): a small preference; when ``training_required`` every candidate has it.

Scores are rounded to ``SCORE_DIGITS`` decimals, so factors that are equal on paper tie exactly
(``1 - 1/3`` and ``2/3`` differ in their last bit as floats). Ties are then broken by
``person_id``, ascending, so the answer never depends on the order the read model returned the
candidates in.

Speed
-----
``suggest`` looks each zone name's UTC offset up once per call (``utc_offset_hours``, cached
per zone name and minute across calls too), scores with plain arithmetic and set operations,
keeps the best ``limit`` with ``heapq`` (O(n log limit), not a full sort) and builds the
reasons' text only for those. ``benchmarks/matching.py`` measures it against a naive version.
"""

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Weights:
    """How much each factor counts. The reasoning is in the module docstring."""

    free_capacity: float = 2.0
    """Times the mean free share of places and of monthly hours, in (0, 1]."""
    shared_topic: float = 3.0
    """Per shared topic, up to ``max_topics`` of them."""
    max_topics: int = 5
    shared_language: float = 2.0
    """Once, whatever the number of shared languages."""
    unknown_language: float = -4.0
    """The seeker or the candidate lists no language: cannot tell whether they can talk."""
    no_common_language: float = -100.0
    """Both list languages and none match: eligible, but after every other candidate."""
    different_team: float = 1.5
    same_team: float = -1.0
    close_time_zone: float = 2.0
    """Times ``1 - hours apart / time_zone_horizon_hours``, never below 0."""
    time_zone_horizon_hours: float = 6.0
    trained: float = 1.0


WEIGHTS: Final = Weights()

MAX_LIMIT: Final = 50
HOURS_TOLERANCE: Final = 1e-9  # the same as the acceptance rule and the database check
"""The most suggestions one call returns."""

SCORE_DIGITS: Final = 6
"""Scores are rounded to this many decimals, so equal factors give exactly equal scores."""

ACTIVE: Final = "active"


class ReasonCode(StrEnum):
    """``Reason.code`` values; the API passes them through as they are."""

    FREE_CAPACITY = "free-capacity"
    SHARED_TOPICS = "shared-topics"
    SHARED_LANGUAGES = "shared-languages"
    DIFFERENT_TEAM = "different-team"
    CLOSE_TIME_ZONE = "close-time-zone"
    TRAINED = "trained"


@dataclass(frozen=True)
class Candidate:
    """One volunteer as the service's read model knows it."""

    person_id: str
    team: str | None
    manager_id: str | None
    time_zone: str | None
    """IANA name, for example ``"Europe/Helsinki"``; unknown names count as no time zone."""
    languages: frozenset[str]
    topics: frozenset[str]
    capacity: int
    """The most colleagues they take at once."""
    active_colleagues: int
    hours_per_month: float
    """Hours they allocated."""
    hours_used: float
    """Hours their current pairings take."""
    trained: bool
    status: str
    """``"active"``, ``"paused"`` or ``"retired"``."""
    left: bool
    """The person left the organisation."""


@dataclass(frozen=True)
class Seeker:
    """The colleague looking for a Kamu."""

    person_id: str
    team: str | None
    manager_id: str | None
    time_zone: str | None
    languages: frozenset[str]
    topics: frozenset[str]
    """What they want support on; may be empty."""
    excluded: frozenset[str]
    """Person ids never to suggest, for example their current or previous Kamu."""


@dataclass(frozen=True)
class Reason:
    """Why a candidate is suggested: a stable code and a short detail for the person."""

    code: str
    detail: str


@dataclass(frozen=True)
class Suggestion:
    person_id: str
    score: float
    reasons: tuple[Reason, ...]


def eligible(
    seeker: Seeker, candidate: Candidate, *, pairing_hours: float, training_required: bool
) -> bool:
    """Whether ``candidate`` may be suggested to ``seeker`` at all (rules in the module doc)."""
    _check_pairing_hours(pairing_hours)
    return _eligible(seeker, candidate, pairing_hours, training_required)


def suggest(
    seeker: Seeker,
    candidates: Iterable[Candidate],
    *,
    limit: int = 10,
    pairing_hours: float,
    training_required: bool,
    now: datetime | None = None,
) -> list[Suggestion]:
    """The best ``limit`` eligible candidates for ``seeker``, best first, with their reasons.

    ``now`` (timezone-aware, default: the current time) is when time zones are compared.
    Raises ``ValueError`` for a ``limit`` outside 1..50, a negative ``pairing_hours`` or a naive
    ``now``.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    _check_pairing_hours(pairing_hours)
    at = _minute(now)
    zones = _TimeZones(seeker.time_zone, at)
    scored = [
        (-_score(seeker, candidate, zones), candidate.person_id, candidate)
        for candidate in candidates
        if _eligible(seeker, candidate, pairing_hours, training_required)
    ]
    # nsmallest of (-score, person_id) is heapq's top-k with ties by ascending person_id and no
    # per-candidate key object; nlargest on (score, person_id) would put the larger id first.
    best = heapq.nsmallest(limit, scored, key=_rank)
    return [
        Suggestion(person_id, -negative, _reasons(seeker, candidate, zones))
        for negative, person_id, candidate in best
    ]


@lru_cache(maxsize=4096)
def utc_offset_hours(zone: str, at: datetime) -> float | None:
    """``zone``'s UTC offset in hours at ``at`` (aware); ``None`` for an unknown zone name.

    Cached per (zone name, instant): ``suggest`` rounds ``now`` down to the minute, so the
    requests of one minute share their look-ups.
    """
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    offset = at.astimezone(info).utcoffset()
    return None if offset is None else offset.total_seconds() / 3600


def hours_apart(a: float, b: float) -> float:
    """Distance between two UTC offsets on the 24-hour clock: 14 and -10 are 0 hours apart."""
    apart = abs(a - b) % 24
    return min(apart, 24 - apart)


class _TimeZones:
    """One call's time zones, seen from the seeker's: one offset look-up per zone name.

    ``points`` also remembers each zone's time-zone points, so scoring 10,000 candidates in 30
    zones costs 30 look-ups and 10,000 dictionary reads.
    """

    __slots__ = ("_at", "_mine", "_points")

    def __init__(self, seeker_zone: str | None, at: datetime) -> None:
        self._at = at
        self._mine = None if seeker_zone is None else utc_offset_hours(seeker_zone, at)
        self._points: dict[str | None, float] = {}

    def apart(self, zone: str | None) -> float | None:
        """Hours between the seeker's offset and ``zone``'s; ``None`` if either is unknown."""
        if self._mine is None or zone is None:
            return None
        theirs = utc_offset_hours(zone, self._at)
        return None if theirs is None else hours_apart(self._mine, theirs)

    def points(self, zone: str | None) -> float:
        try:
            return self._points[zone]
        except KeyError:
            apart = self.apart(zone)
            found = self._points[zone] = 0.0 if apart is None else _time_zone_points(apart)
            return found


def _check_pairing_hours(pairing_hours: float) -> None:
    if not pairing_hours >= 0:  # also refuses NaN
        raise ValueError(f"pairing_hours must be 0 or more, got {pairing_hours}")


def _minute(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC)
    elif now.utcoffset() is None:
        raise ValueError("now must be timezone-aware, for example datetime.now(UTC)")
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def _rank(entry: tuple[float, str, Candidate]) -> tuple[float, str]:
    return entry[0], entry[1]


def _eligible(
    seeker: Seeker, candidate: Candidate, pairing_hours: float, training_required: bool
) -> bool:
    person_id = candidate.person_id
    return not (
        person_id == seeker.person_id
        or person_id in seeker.excluded
        or candidate.status != ACTIVE
        or candidate.left
        or candidate.active_colleagues >= candidate.capacity
        or candidate.hours_used + pairing_hours > candidate.hours_per_month + HOURS_TOLERANCE
        or (training_required and not candidate.trained)
        or person_id == seeker.manager_id
        or candidate.manager_id == seeker.person_id
    )


def _free_share(candidate: Candidate) -> float:
    """Mean of the free share of places and of monthly hours, in (0, 1] when eligible."""
    places = 1 - candidate.active_colleagues / candidate.capacity
    hours = candidate.hours_per_month
    free_hours = 1 - candidate.hours_used / hours if hours > 0 else 0.0
    return (places + free_hours) / 2


def _time_zone_points(apart: float) -> float:
    return WEIGHTS.close_time_zone * max(0.0, 1 - apart / WEIGHTS.time_zone_horizon_hours)


def _score(seeker: Seeker, candidate: Candidate, zones: _TimeZones) -> float:
    """The weighted sum; ``_reasons`` explains the same factors in words."""
    w = WEIGHTS
    score = w.free_capacity * _free_share(candidate)
    if seeker.topics:
        score += w.shared_topic * min(len(seeker.topics & candidate.topics), w.max_topics)
    if not seeker.languages or not candidate.languages:
        score += w.unknown_language
    elif seeker.languages.isdisjoint(candidate.languages):
        score += w.no_common_language
    else:
        score += w.shared_language
    if seeker.team is not None and candidate.team is not None:
        score += w.different_team if seeker.team != candidate.team else w.same_team
    score += zones.points(candidate.time_zone)
    if candidate.trained:
        score += w.trained
    return round(score, SCORE_DIGITS)


def _hours(value: float) -> str:
    return f"{value:g}"


def _reasons(seeker: Seeker, candidate: Candidate, zones: _TimeZones) -> tuple[Reason, ...]:
    """One reason per factor that added points, in the order of the module doc's table."""
    free_places = candidate.capacity - candidate.active_colleagues
    free_hours = candidate.hours_per_month - candidate.hours_used
    reasons = [
        Reason(
            ReasonCode.FREE_CAPACITY,
            f"{free_places} of {candidate.capacity} places and "
            f"{_hours(free_hours)} of {_hours(candidate.hours_per_month)} h/month free",
        )
    ]
    shared_topics = seeker.topics & candidate.topics
    if shared_topics:
        reasons.append(Reason(ReasonCode.SHARED_TOPICS, ", ".join(sorted(shared_topics))))
    shared_languages = seeker.languages & candidate.languages
    if shared_languages:
        reasons.append(Reason(ReasonCode.SHARED_LANGUAGES, ", ".join(sorted(shared_languages))))
    if seeker.team is not None and candidate.team is not None and seeker.team != candidate.team:
        reasons.append(Reason(ReasonCode.DIFFERENT_TEAM, candidate.team))
    apart = zones.apart(candidate.time_zone)
    if apart is not None and zones.points(candidate.time_zone) > 0:
        when = "same time" if apart == 0 else f"{_hours(apart)} h apart"
        reasons.append(Reason(ReasonCode.CLOSE_TIME_ZONE, f"{candidate.time_zone}, {when}"))
    if candidate.trained:
        reasons.append(Reason(ReasonCode.TRAINED, "completed the Kamu training"))
    return tuple(reasons)
