"""Who is told what: each inbound event becomes notifications for the people it concerns.

Pure: an event in, a list of :class:`Planned` out. A notification carries only what its
recipient may see: who the other person is, when and where a meeting is. Never a pairing
request's message, a goal's words, notes or feedback; those stay in the app, behind its
access rules, and the notification links there.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kamu_notifications.domain import inbound as e

# Reminders and nudges may be gathered in a daily digest; news (a request, an invitation) not.
SLOT_FIELDS = ("starts_at", "time_zone", "duration_minutes", "location")
THREADED = frozenset({"meeting-scheduled", "meeting-rescheduled", "meeting-cancelled"})
DIGESTIBLE = frozenset({"meeting-reminder", "meeting-overdue", "goal-review-due"})


@dataclass(frozen=True)
class Planned:
    """One notification to plan: what kind, to whom, and what its templates may show."""

    kind: str
    recipient_id: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def digestible(self) -> bool:
        return self.kind in DIGESTIBLE

    @property
    def thread(self) -> str | None:
        """Messages that must arrive in order: a meeting's invitation, moves, cancellation."""
        if self.kind in THREADED:
            return f"meeting:{self.params['meeting_id']}"
        return None


def _meeting(event: e._Slot | e.MeetingCancelled, sequence: int) -> dict[str, Any]:
    return {
        "meeting_id": event.meeting_id,
        "pairing_id": event.pairing_id,
        "colleague_id": event.colleague_id,
        "kamu_id": event.kamu_id,
        "sequence": sequence,
    }


def _slot(event: e._Slot) -> dict[str, Any]:
    return {
        "starts_at": event.starts_at.isoformat(),
        "time_zone": event.time_zone,
        "duration_minutes": event.duration_minutes,
        "location": event.location,
    }


def _both(kind: str, colleague: str, kamu: str, params: dict[str, Any]) -> list[Planned]:
    return [
        Planned(kind, colleague, {**params, "other_id": kamu, "role": "colleague"}),
        Planned(kind, kamu, {**params, "other_id": colleague, "role": "kamu"}),
    ]


def route(
    event: object, *, cancelled_slot: dict[str, Any] | None = None, at: datetime | None = None
) -> list[Planned]:
    """The notifications an inbound event causes (none for most events).

    ``cancelled_slot`` is the time and place of a cancelled meeting as last known here (a
    cancellation's invite must name the event it removes). ``at`` is when the event happened:
    a meeting scheduled after it began is being logged, not arranged, and invites nobody (a
    pair recording last month's meetings, or a programme's history moved in at once)."""
    if at is not None and _logged_after_start(event, at):
        return []
    if isinstance(event, e.PairingRequested):
        return [Planned("pairing-requested", event.kamu_id, _pair(event, event.colleague_id))]
    if isinstance(event, e.PairingCreated):
        return [Planned("pairing-accepted", event.colleague_id, _pair(event, event.kamu_id))]
    if isinstance(event, e.PairingDeclined):
        return [Planned("pairing-declined", event.colleague_id, _pair(event, event.kamu_id))]
    if isinstance(event, e.PairingWithdrawn):
        return [Planned("pairing-withdrawn", event.kamu_id, _pair(event, event.colleague_id))]
    if isinstance(event, e.PairingEnded):
        told = [Planned("pairing-ended", event.colleague_id, _pair(event, event.kamu_id))]
        if event.ended_by != event.kamu_id:
            told.append(Planned("pairing-ended", event.kamu_id, _pair(event, event.colleague_id)))
        return told
    if isinstance(event, e.MeetingScheduled):
        params = {**_meeting(event, 0), **_slot(event)}
        return _both("meeting-scheduled", event.colleague_id, event.kamu_id, params)
    if isinstance(event, e.MeetingRescheduled):
        params = {**_meeting(event, event.sequence), **_slot(event)}
        return _both("meeting-rescheduled", event.colleague_id, event.kamu_id, params)
    if isinstance(event, e.MeetingCancelled):
        slot = cancelled_slot or {}
        params = {
            **_meeting(event, int(slot.get("sequence", 0)) + 1),
            **{k: slot[k] for k in SLOT_FIELDS if k in slot},
            "cause": event.cause or "member",
        }
        if "starts_at" not in params and event.starts_at is not None:
            params["starts_at"] = event.starts_at.isoformat()
        return _both("meeting-cancelled", event.colleague_id, event.kamu_id, params)
    if isinstance(event, e.MeetingOverdue):
        nudged = {"colleague": event.colleague_id, "kamu": event.kamu_id}.get(event.nudge)
        if nudged is None:
            return []  # escalation ended: only counts reach People Operations
        other = event.kamu_id if nudged == event.colleague_id else event.colleague_id
        params = {"pairing_id": event.pairing_id, "other_id": other, "lapse": event.lapse}
        return [Planned("meeting-overdue", nudged, {**params, "role": event.nudge})]
    if isinstance(event, e.GoalReviewDue):
        params = {"goal_id": event.goal_id, "lapse": event.lapse}
        told = [Planned("goal-review-due", event.owner_id, {**params, "role": "owner"})]
        if event.kamu_id:
            told.append(
                Planned(
                    "goal-review-due",
                    event.kamu_id,
                    {**params, "role": "kamu", "other_id": event.owner_id},
                )
            )
        return told
    return []


def _logged_after_start(event: object, at: datetime) -> bool:
    return isinstance(event, e.MeetingScheduled) and event.starts_at <= at


def _pair(event: e._Pairing, other: str) -> dict[str, Any]:
    return {"pairing_id": event.pairing_id, "other_id": other}


def reminder(meeting: dict[str, Any]) -> list[Planned]:
    """The reminders of a meeting about to start, to both members."""
    params = {k: meeting[k] for k in ("meeting_id", "pairing_id", "starts_at", "time_zone")}
    params |= {"duration_minutes": meeting["duration_minutes"], "location": meeting["location"]}
    return _both("meeting-reminder", meeting["colleague_id"], meeting["kamu_id"], params)
