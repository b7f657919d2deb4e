"""A pairing's meeting cadence: one ``meeting-overdue`` per lapse, escalating gently.

The clock runs from the last held meeting (or the pairing's start). Lapse N is due once N
cadences have passed without a held meeting; each lapse is recorded once, even if the timer
fires twice (two replicas, a retry after a crash). Nudges go to the colleague first, then to
the Kamu, then to nobody: beyond that only counts reach People Operations, and a pairing is
never ended for drifting.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from kamu_meetings.domain.events import MeetingOverdue
from kamu_shared.events import DomainEvent

Nudge = Literal["colleague", "kamu", "none"]


@dataclass(frozen=True)
class Cadence:
    """The last lapse recorded, the clock start it counted from, and how many lapses were
    recorded since that start (the nudges follow that order, not the lapse number)."""

    since: datetime | None = None
    lapse: int = 0
    recorded: int = 0


@dataclass(frozen=True)
class RecordLapse:
    pairing_id: str
    colleague_id: str
    kamu_id: str
    cadence_weeks: int
    since: datetime
    lapse: int


def nudge_for(nth: int) -> Nudge:
    """Whom the ``nth`` lapse recorded since the clock started nudges: a lapse found late (the
    service was down, a meeting was recorded late) still nudges the colleague first."""
    return "colleague" if nth == 1 else "kamu" if nth == 2 else "none"


def due_at(since: datetime, lapse: int, period: timedelta) -> datetime:
    """When lapse ``lapse`` (1, 2, ...) falls due, counting from ``since``."""
    return since + lapse * period


def evolve(state: Cadence, event: DomainEvent) -> Cadence:
    if isinstance(event, MeetingOverdue):
        recorded = state.recorded + 1 if state.since == event.since else 1
        return Cadence(event.since, event.lapse, recorded)
    return state


def decide_lapse(state: Cadence, command: RecordLapse) -> list[DomainEvent]:
    """Record the lapse unless it (or a later one from the same clock start) already was, or
    it counts from a clock start older than the last one recorded (a stale reading)."""
    if state.since is not None and command.since < state.since:
        return []
    if state.since == command.since and state.lapse >= command.lapse:
        return []
    earlier = state.recorded if state.since == command.since else 0
    return [
        MeetingOverdue(
            pairing_id=command.pairing_id,
            colleague_id=command.colleague_id,
            kamu_id=command.kamu_id,
            cadence_weeks=command.cadence_weeks,
            lapse=command.lapse,
            since=command.since,
            nudge=nudge_for(earlier + 1),
        )
    ]
