"""The meetings service's published events.

Wire types ``kamu.meetings.<name>.v<N>``, on the topic ``kamu.meetings.events``.

Privacy on the topic: meeting notes never travel in clear. ``meeting-held`` carries them sealed
(``notes_sealed``: a Fernet token under a key per pairing that only this service holds), so
other services' consumers cannot read them and deleting the key erases them. Feedback events
carry the respondent's role (colleague or Kamu) rather than a person id, but name the pair like
every meeting event: the topic is confidential, and answers are only ever shown in aggregates.
"""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from kamu_shared.events import DomainEvent, EventRegistry, PersonalData

registry = EventRegistry("meetings")

Respondent = Literal["colleague", "kamu"]


class _MeetingEvent(DomainEvent):
    """Every meeting event names its pairing and the pair, so consumers need no lookup."""

    meeting_id: str
    pairing_id: str
    colleague_id: str
    kamu_id: str


class _Slot(_MeetingEvent):
    starts_at: AwareDatetime
    time_zone: str = Field(description="IANA time zone the meeting was planned in.")
    duration_minutes: int = Field(ge=5, le=480)
    location: Annotated[str | None, PersonalData(subject="colleague_id")] = None


@registry.register
class MeetingScheduled(_Slot, name="meeting-scheduled", version=1):
    """A member of an active pairing put a meeting in the calendar."""

    scheduled_by: str
    agenda: Annotated[str | None, PersonalData(subject="colleague_id")] = None


@registry.register
class MeetingRescheduled(_Slot, name="meeting-rescheduled", version=1):
    """A member moved a scheduled meeting (the whole new slot is on the event)."""

    rescheduled_by: str
    sequence: int = Field(ge=1, description="How many times it moved (iCalendar SEQUENCE).")


@registry.register
class MeetingCancelled(_MeetingEvent, name="meeting-cancelled", version=1):
    """A scheduled meeting will not happen: a member cancelled it, or the pairing ended."""

    cancelled_by: str
    cause: Literal["member", "pairing-ended"] = "member"
    reason: Annotated[str | None, PersonalData(subject="colleague_id")] = None
    starts_at: AwareDatetime


@registry.register
class MeetingHeld(_MeetingEvent, name="meeting-held", version=1):
    """A member recorded that the meeting took place; the cadence clock starts again from it."""

    recorded_by: str
    held_at: AwareDatetime = Field(description="When it took place (its start).")
    notes_sealed: str | None = Field(
        default=None, description="The pair's private notes, sealed with the pairing's key."
    )
    goal_ids: list[str] = Field(
        default_factory=list, description="Goals the pair reviewed in this meeting."
    )


@registry.register
class MeetingFeedbackGiven(_MeetingEvent, name="meeting-feedback-given", version=1):
    """One member's anonymous rating of a held meeting (once per member)."""

    respondent: Respondent
    psychological_safety: int = Field(ge=1, le=5)
    usefulness: int = Field(ge=1, le=5)
    held_at: AwareDatetime


@registry.register
class MeetingOverdue(DomainEvent, name="meeting-overdue", version=1):
    """A pairing went one more cadence without a held meeting (once per lapse).

    ``lapse`` counts the cadences passed since ``since``; ``nudge`` says whom to remind,
    gently: the colleague at the first lapse recorded, the Kamu at the second, nobody after
    that (People Operations sees only counts). A pairing is never ended automatically.
    """

    pairing_id: str
    colleague_id: str
    kamu_id: str
    cadence_weeks: int = Field(ge=1)
    lapse: int = Field(ge=1)
    since: AwareDatetime = Field(description="The last held meeting, or the pairing's start.")
    nudge: Literal["colleague", "kamu", "none"]
