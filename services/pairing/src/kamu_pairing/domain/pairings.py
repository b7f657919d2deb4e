"""A pairing between a colleague and their Kamu: requested, then active, declined or withdrawn;
an active one ends. Pure decide/evolve; the facts about other aggregates (the people, the Kamu's
load) arrive on the command, and the database re-checks the cross-aggregate rules under lock."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from kamu_pairing.domain.errors import RuleViolated
from kamu_pairing.domain.events import (
    PairingChangeRequested,
    PairingCreated,
    PairingDeclined,
    PairingEnded,
    PairingRequested,
    PairingWithdrawn,
)
from kamu_shared.events import DomainEvent

Status = Literal["none", "requested", "active", "declined", "withdrawn", "ended"]
WEEKS_PER_MONTH = 52 / 12


def monthly_hours(cadence_weeks: int, meeting_minutes: int) -> float:
    """What one pairing costs its Kamu per month: meetings per month times their length."""
    return meeting_minutes / 60 * WEEKS_PER_MONTH / cadence_weeks


@dataclass(frozen=True)
class Party:
    """A person as the pairing rules need them."""

    person_id: str
    exists: bool
    left: bool
    manager_id: str | None


@dataclass(frozen=True)
class KamuLoad:
    """A Kamu's offer and current load."""

    status: Literal["none", "active", "paused", "retired"]
    trained: bool
    capacity: int
    hours_per_month: float
    active_colleagues: int
    hours_used: float


@dataclass(frozen=True)
class Pairing:
    status: Status = "none"
    colleague_id: str = ""
    kamu_id: str = ""
    cadence_weeks: int | None = None
    meeting_minutes: int | None = None


@dataclass(frozen=True)
class RequestPairing:
    pairing_id: str
    colleague: Party
    kamu: Party
    kamu_load: KamuLoad
    colleague_has_kamu: bool
    requested_by: str
    message: str | None = None


@dataclass(frozen=True)
class AcceptPairing:
    pairing_id: str
    colleague: Party
    kamu: Party
    kamu_load: KamuLoad
    colleague_has_kamu: bool
    cadence_weeks: int
    meeting_minutes: int
    training_required: bool
    began_at: datetime | None = None


@dataclass(frozen=True)
class DeclinePairing:
    pairing_id: str


@dataclass(frozen=True)
class WithdrawPairing:
    pairing_id: str


@dataclass(frozen=True)
class EndPairing:
    pairing_id: str
    ended_by: str


@dataclass(frozen=True)
class RequestChange:
    """The colleague asks for another Kamu; facts about the pairing come with the command."""

    pairing_id: str
    colleague_id: str
    kamu_id: str
    pairing_active: bool


@dataclass(frozen=True)
class ChangeRequests:
    """A pairing's confidential change requests, kept in a stream of their own so that the
    pairing itself (its version, ETag and timestamps, which the Kamu sees) does not move."""

    requested: bool = False


def evolve_change(state: ChangeRequests, event: DomainEvent) -> ChangeRequests:
    return ChangeRequests(requested=True) if isinstance(event, PairingChangeRequested) else state


def evolve(state: Pairing, event: DomainEvent) -> Pairing:
    if isinstance(event, PairingRequested):
        return Pairing("requested", event.colleague_id, event.kamu_id)
    if isinstance(event, PairingCreated):
        return replace(
            state,
            status="active",
            cadence_weeks=event.cadence_weeks,
            meeting_minutes=event.meeting_minutes,
        )
    if isinstance(event, PairingDeclined):
        return replace(state, status="declined")
    if isinstance(event, PairingWithdrawn):
        return replace(state, status="withdrawn")
    if isinstance(event, PairingEnded):
        return replace(state, status="ended")
    return state


def decide_request(state: Pairing, command: RequestPairing) -> list[DomainEvent]:
    if state.status != "none":
        raise RuleViolated("pairing-exists", f"pairing {command.pairing_id} already exists")
    colleague, kamu = command.colleague, command.kamu
    if colleague.person_id == kamu.person_id:
        raise RuleViolated("own-kamu", "a person cannot be their own Kamu")
    _check_people(colleague, kamu)
    _check_kamu_available(kamu.person_id, command.kamu_load, new_request=True)
    if command.colleague_has_kamu:
        raise RuleViolated("already-paired", f"{colleague.person_id} already has a Kamu")
    return [
        PairingRequested(
            pairing_id=command.pairing_id,
            colleague_id=colleague.person_id,
            kamu_id=kamu.person_id,
            requested_by=command.requested_by,
            message=command.message,
        )
    ]


def decide_accept(state: Pairing, command: AcceptPairing) -> list[DomainEvent]:
    _require(state, "requested", command.pairing_id)
    _check_people(command.colleague, command.kamu)
    load = command.kamu_load
    _check_kamu_available(command.kamu.person_id, load, new_request=False)
    if command.training_required and not load.trained:
        raise RuleViolated(
            "training-required", f"{command.kamu.person_id} has not completed Kamu training yet"
        )
    if load.active_colleagues >= load.capacity:
        raise RuleViolated(
            "kamu-at-capacity", f"{command.kamu.person_id} already has {load.capacity} colleague(s)"
        )
    needed = monthly_hours(command.cadence_weeks, command.meeting_minutes)
    if load.hours_used + needed > load.hours_per_month + 1e-9:
        raise RuleViolated(
            "kamu-hours-exceeded",
            f"{command.kamu.person_id} has {load.hours_per_month - load.hours_used:.1f} of "
            f"{load.hours_per_month:g} hours a month left; this pairing needs {needed:.1f}",
        )
    if command.colleague_has_kamu:
        raise RuleViolated("already-paired", f"{command.colleague.person_id} already has a Kamu")
    return [
        PairingCreated(
            pairing_id=command.pairing_id,
            colleague_id=state.colleague_id,
            kamu_id=state.kamu_id,
            cadence_weeks=command.cadence_weeks,
            meeting_minutes=command.meeting_minutes,
            began_at=command.began_at,
        )
    ]


def decide_decline(state: Pairing, command: DeclinePairing) -> list[DomainEvent]:
    _require(state, "requested", command.pairing_id)
    return [
        PairingDeclined(
            pairing_id=command.pairing_id, colleague_id=state.colleague_id, kamu_id=state.kamu_id
        )
    ]


def decide_withdraw(state: Pairing, command: WithdrawPairing) -> list[DomainEvent]:
    _require(state, "requested", command.pairing_id)
    return [
        PairingWithdrawn(
            pairing_id=command.pairing_id, colleague_id=state.colleague_id, kamu_id=state.kamu_id
        )
    ]


def decide_end(state: Pairing, command: EndPairing) -> list[DomainEvent]:
    if state.status == "ended":
        return []
    _require(state, "active", command.pairing_id)
    return [
        PairingEnded(
            pairing_id=command.pairing_id,
            colleague_id=state.colleague_id,
            kamu_id=state.kamu_id,
            ended_by=command.ended_by,
        )
    ]


def decide_change_request(state: ChangeRequests, command: RequestChange) -> list[DomainEvent]:
    if not command.pairing_active:
        raise RuleViolated("pairing-not-active", f"pairing {command.pairing_id} is not active")
    if state.requested:
        return []
    return [
        PairingChangeRequested(
            pairing_id=command.pairing_id,
            colleague_id=command.colleague_id,
            kamu_id=command.kamu_id,
        )
    ]


def _require(state: Pairing, status: Status, pairing_id: str) -> None:
    if state.status != status:
        raise RuleViolated(
            f"pairing-not-{status}", f"pairing {pairing_id} is {state.status}, not {status}"
        )


def _check_people(colleague: Party, kamu: Party) -> None:
    for party in (colleague, kamu):
        if party.left:
            raise RuleViolated("person-left", f"{party.person_id} has left the organisation")
    if colleague.manager_id == kamu.person_id or kamu.manager_id == colleague.person_id:
        raise RuleViolated(
            "manager-pairing", "a Kamu is a peer: nobody pairs with their manager or direct report"
        )


def _check_kamu_available(kamu_id: str, load: KamuLoad, *, new_request: bool) -> None:
    if load.status == "none":
        raise RuleViolated("not-a-kamu", f"{kamu_id} has not volunteered as a Kamu")
    if load.status == "retired":
        raise RuleViolated("kamu-retired", f"{kamu_id} has retired as a Kamu")
    if load.status == "paused" and new_request:
        raise RuleViolated("kamu-paused", f"{kamu_id} takes no new requests for now")
