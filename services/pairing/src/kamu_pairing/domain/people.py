"""A person as synced from HR: registered, updated, left. Pure decide/evolve."""

from dataclasses import dataclass, replace
from datetime import date

from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import PersonLeft, PersonRegistered, PersonUpdated
from kamu_shared.events import DomainEvent


@dataclass(frozen=True)
class Profile:
    """What ``PUT /people/{id}`` says about a person."""

    display_name: str
    email: str
    team: str | None = None
    manager_id: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    slack_user_id: str | None = None
    teams_user_id: str | None = None
    joined_on: date | None = None  # the start date in the organisation


@dataclass(frozen=True)
class Person:
    exists: bool = False
    left: bool = False
    profile: Profile | None = None


@dataclass(frozen=True)
class SyncPerson:
    person_id: str
    profile: Profile


@dataclass(frozen=True)
class MarkLeft:
    person_id: str


def evolve(state: Person, event: DomainEvent) -> Person:
    if isinstance(event, PersonRegistered | PersonUpdated):
        fields = event.model_dump(exclude={"person_id"})
        return replace(state, exists=True, profile=Profile(**fields))
    if isinstance(event, PersonLeft):
        return replace(state, left=True)
    return state


def decide_sync(state: Person, command: SyncPerson) -> list[DomainEvent]:
    """Upsert: registered the first time, updated when something changed, nothing otherwise.

    "Changed" is any field of the profile, ``joined_on`` included: the same PUT again appends
    nothing, and a PUT without a field clears it (the body is the whole profile)."""
    if state.left:
        raise RuleViolated("person-left", f"{command.person_id} has left the organisation")
    if command.profile.manager_id == command.person_id:
        raise RuleViolated("own-manager", "a person cannot be their own manager")
    data = {"person_id": command.person_id, **vars(command.profile)}
    if not state.exists:
        return [PersonRegistered(**data)]
    if state.profile == command.profile:
        return []
    return [PersonUpdated(**data)]


def decide_leave(state: Person, command: MarkLeft) -> list[DomainEvent]:
    if not state.exists:
        raise NotFoundError(command.person_id)
    if state.left:
        return []
    return [PersonLeft(person_id=command.person_id)]
