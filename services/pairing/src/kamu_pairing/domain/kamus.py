"""A Kamu profile: volunteering, training, pausing, retiring. Pure decide/evolve."""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import (
    KamuPaused,
    KamuProfileUpdated,
    KamuResumed,
    KamuRetired,
    KamuTrainingCompleted,
    KamuVolunteered,
)
from kamu_shared.events import DomainEvent

Status = Literal["none", "active", "paused", "retired"]


@dataclass(frozen=True)
class Offer:
    """What ``PUT /kamus/{id}`` says: how much a Kamu can give, and on what."""

    capacity: int
    hours_per_month: float
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kamu:
    status: Status = "none"
    offer: Offer | None = None
    trainings: tuple[str, ...] = field(default=())

    @property
    def trained(self) -> bool:
        return bool(self.trainings)


@dataclass(frozen=True)
class Volunteer:
    person_id: str
    offer: Offer


@dataclass(frozen=True)
class RecordTraining:
    person_id: str
    training: str
    completed_on: date


@dataclass(frozen=True)
class Pause:
    person_id: str


@dataclass(frozen=True)
class Resume:
    person_id: str


@dataclass(frozen=True)
class Retire:
    person_id: str


def evolve(state: Kamu, event: DomainEvent) -> Kamu:
    if isinstance(event, KamuVolunteered | KamuProfileUpdated):
        offer = Offer(
            event.capacity, event.hours_per_month, tuple(event.topics), tuple(event.languages)
        )
        status: Status = "active" if isinstance(event, KamuVolunteered) else state.status
        return replace(state, status=status, offer=offer)
    if isinstance(event, KamuTrainingCompleted):
        return replace(state, trainings=(*state.trainings, event.training))
    if isinstance(event, KamuPaused):
        return replace(state, status="paused")
    if isinstance(event, KamuResumed):
        return replace(state, status="active")
    if isinstance(event, KamuRetired):
        return replace(state, status="retired")
    return state


def decide_volunteer(state: Kamu, command: Volunteer) -> list[DomainEvent]:
    """Volunteering again after retiring starts afresh; otherwise the offer is updated."""
    offer = command.offer
    if state.status in ("none", "retired"):
        return [
            KamuVolunteered(
                person_id=command.person_id,
                capacity=offer.capacity,
                hours_per_month=offer.hours_per_month,
                topics=list(offer.topics),
                languages=list(offer.languages),
            )
        ]
    if state.offer == offer:
        return []
    return [
        KamuProfileUpdated(
            person_id=command.person_id,
            capacity=offer.capacity,
            hours_per_month=offer.hours_per_month,
            topics=list(offer.topics),
            languages=list(offer.languages),
        )
    ]


def decide_training(state: Kamu, command: RecordTraining) -> list[DomainEvent]:
    _require_volunteer(state, command.person_id)
    if command.training in state.trainings:
        return []
    return [
        KamuTrainingCompleted(
            person_id=command.person_id,
            training=command.training,
            completed_on=command.completed_on,
        )
    ]


def decide_pause(state: Kamu, command: Pause) -> list[DomainEvent]:
    _require_volunteer(state, command.person_id)
    if state.status == "retired":
        raise RuleViolated("kamu-retired", f"{command.person_id} has retired as a Kamu")
    return [] if state.status == "paused" else [KamuPaused(person_id=command.person_id)]


def decide_resume(state: Kamu, command: Resume) -> list[DomainEvent]:
    _require_volunteer(state, command.person_id)
    if state.status == "retired":
        raise RuleViolated("kamu-retired", f"{command.person_id} has retired as a Kamu")
    return [] if state.status == "active" else [KamuResumed(person_id=command.person_id)]


def decide_retire(state: Kamu, command: Retire) -> list[DomainEvent]:
    _require_volunteer(state, command.person_id)
    return [] if state.status == "retired" else [KamuRetired(person_id=command.person_id)]


def _require_volunteer(state: Kamu, person_id: str) -> None:
    if state.status == "none":
        raise NotFoundError(person_id)
