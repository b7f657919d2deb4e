"""A Kamu meeting: scheduled, maybe moved, then cancelled or held; each member may rate a held
one once. Pure decide/evolve: facts about the pairing and the clock arrive on the command."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from kamu_meetings.domain.errors import RuleViolated
from kamu_meetings.domain.events import (
    MeetingCancelled,
    MeetingFeedbackGiven,
    MeetingHeld,
    MeetingRescheduled,
    MeetingScheduled,
    Respondent,
)
from kamu_shared.events import DomainEvent

Status = Literal["none", "scheduled", "cancelled", "held"]


@dataclass(frozen=True)
class Pair:
    """The pairing a meeting belongs to, as the meetings service learned it from pairing."""

    pairing_id: str
    colleague_id: str
    kamu_id: str
    active: bool

    def role_of(self, person_id: str) -> Respondent | None:
        if person_id == self.colleague_id:
            return "colleague"
        if person_id == self.kamu_id:
            return "kamu"
        return None


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    time_zone: str
    duration_minutes: int
    location: str | None


@dataclass(frozen=True)
class Meeting:
    status: Status = "none"
    pair: Pair | None = None
    slot: Slot | None = None
    sequence: int = 0
    feedback_from: frozenset[Respondent] = frozenset()


@dataclass(frozen=True)
class ScheduleMeeting:
    meeting_id: str
    pair: Pair
    by: str
    slot: Slot
    agenda: str | None = None


@dataclass(frozen=True)
class RescheduleMeeting:
    meeting_id: str
    pair_active: bool
    by: str
    slot: Slot


@dataclass(frozen=True)
class CancelMeeting:
    meeting_id: str
    by: str
    reason: str | None = None
    cause: Literal["member", "pairing-ended"] = "member"


@dataclass(frozen=True)
class CompleteMeeting:
    meeting_id: str
    by: str
    now: datetime
    notes_sealed: str | None = None
    goal_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class GiveFeedback:
    meeting_id: str
    respondent: Respondent
    psychological_safety: int
    usefulness: int


def evolve(state: Meeting, event: DomainEvent) -> Meeting:
    if isinstance(event, MeetingScheduled):
        pair = Pair(event.pairing_id, event.colleague_id, event.kamu_id, active=True)
        return Meeting("scheduled", pair, _slot(event))
    if isinstance(event, MeetingRescheduled):
        return replace(state, slot=_slot(event), sequence=event.sequence)
    if isinstance(event, MeetingCancelled):
        return replace(state, status="cancelled")
    if isinstance(event, MeetingHeld):
        return replace(state, status="held")
    if isinstance(event, MeetingFeedbackGiven):
        return replace(state, feedback_from=state.feedback_from | {event.respondent})
    return state


def _slot(event: MeetingScheduled | MeetingRescheduled) -> Slot:
    return Slot(event.starts_at, event.time_zone, event.duration_minutes, event.location)


def decide_schedule(state: Meeting, command: ScheduleMeeting) -> list[DomainEvent]:
    if state.status != "none":
        raise RuleViolated("meeting-exists", f"meeting {command.meeting_id} already exists")
    pair = command.pair
    if pair.role_of(command.by) is None:
        raise RuleViolated("not-a-member", "only the two people of a pairing schedule its meetings")
    if not pair.active:
        raise RuleViolated("pairing-not-active", f"pairing {pair.pairing_id} is not active")
    return [
        MeetingScheduled(
            meeting_id=command.meeting_id,
            pairing_id=pair.pairing_id,
            colleague_id=pair.colleague_id,
            kamu_id=pair.kamu_id,
            starts_at=command.slot.starts_at,
            time_zone=command.slot.time_zone,
            duration_minutes=command.slot.duration_minutes,
            location=command.slot.location,
            scheduled_by=command.by,
            agenda=command.agenda,
        )
    ]


def _scheduled(state: Meeting, meeting_id: str) -> Pair:
    if state.status == "none" or state.pair is None:
        raise RuleViolated("unknown-meeting", f"meeting {meeting_id} does not exist")
    if state.status == "cancelled":
        raise RuleViolated("meeting-cancelled", f"meeting {meeting_id} was cancelled")
    if state.status == "held":
        raise RuleViolated("meeting-already-held", f"meeting {meeting_id} was already held")
    return state.pair


def _member(pair: Pair, person_id: str) -> None:
    if pair.role_of(person_id) is None:
        raise RuleViolated("not-a-member", "only the two people of the pairing may do this")


def decide_reschedule(state: Meeting, command: RescheduleMeeting) -> list[DomainEvent]:
    pair = _scheduled(state, command.meeting_id)
    _member(pair, command.by)
    if not command.pair_active:
        raise RuleViolated("pairing-not-active", f"pairing {pair.pairing_id} has ended")
    if command.slot == state.slot:
        return []  # moved to where it already is: nothing happened
    return [
        MeetingRescheduled(
            meeting_id=command.meeting_id,
            pairing_id=pair.pairing_id,
            colleague_id=pair.colleague_id,
            kamu_id=pair.kamu_id,
            starts_at=command.slot.starts_at,
            time_zone=command.slot.time_zone,
            duration_minutes=command.slot.duration_minutes,
            location=command.slot.location,
            rescheduled_by=command.by,
            sequence=state.sequence + 1,
        )
    ]


def decide_cancel(state: Meeting, command: CancelMeeting) -> list[DomainEvent]:
    pair = _scheduled(state, command.meeting_id)
    if command.cause == "member":
        _member(pair, command.by)
    assert state.slot is not None
    return [
        MeetingCancelled(
            meeting_id=command.meeting_id,
            pairing_id=pair.pairing_id,
            colleague_id=pair.colleague_id,
            kamu_id=pair.kamu_id,
            cancelled_by=command.by,
            cause=command.cause,
            reason=command.reason,
            starts_at=state.slot.starts_at,
        )
    ]


def decide_complete(state: Meeting, command: CompleteMeeting) -> list[DomainEvent]:
    pair = _scheduled(state, command.meeting_id)
    _member(pair, command.by)
    assert state.slot is not None
    if command.now < state.slot.starts_at:
        raise RuleViolated(
            "meeting-not-started", "a meeting can be recorded as held once it has started"
        )
    return [
        MeetingHeld(
            meeting_id=command.meeting_id,
            pairing_id=pair.pairing_id,
            colleague_id=pair.colleague_id,
            kamu_id=pair.kamu_id,
            recorded_by=command.by,
            held_at=state.slot.starts_at,
            notes_sealed=command.notes_sealed,
            goal_ids=list(command.goal_ids),
        )
    ]


def decide_feedback(state: Meeting, command: GiveFeedback) -> list[DomainEvent]:
    if state.status == "none" or state.pair is None or state.slot is None:
        raise RuleViolated("unknown-meeting", f"meeting {command.meeting_id} does not exist")
    if state.status != "held":
        raise RuleViolated("meeting-not-held", "feedback is given on a held meeting")
    if command.respondent in state.feedback_from:
        raise RuleViolated("feedback-already-given", "each member gives feedback once")
    pair = state.pair
    return [
        MeetingFeedbackGiven(
            meeting_id=command.meeting_id,
            pairing_id=pair.pairing_id,
            colleague_id=pair.colleague_id,
            kamu_id=pair.kamu_id,
            respondent=command.respondent,
            psychological_safety=command.psychological_safety,
            usefulness=command.usefulness,
            held_at=state.slot.starts_at,
        )
    ]
