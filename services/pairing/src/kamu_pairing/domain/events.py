"""The pairing service's published events.

Wire types ``kamu.pairing.<name>.v<N>``, on the topic ``kamu.pairing.events``. Personal data
(names, contact ids, request messages) is marked so it can be erased per person later.
``pairing-change-requested`` is confidential: it tells People Operations that a colleague wants
another Kamu; no consumer may reveal it to the current Kamu.
"""

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from kamu_shared.events import DomainEvent, EventRegistry, PersonalData

registry = EventRegistry("pairing")

PersonalText = Annotated[str | None, PersonalData(subject="person_id")]


class _Profile(DomainEvent):
    """A person as HR knows them (every field of ``PUT /people/{id}``)."""

    person_id: str
    display_name: Annotated[str, PersonalData(subject="person_id")]
    email: Annotated[str, PersonalData(subject="person_id")]
    team: str | None = None
    manager_id: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    slack_user_id: PersonalText = None
    teams_user_id: PersonalText = None
    # Organisational HR data like team and manager_id, so not marked personal: it is no
    # contact detail, and without the name and email it names nobody once they are shredded.
    joined_on: date | None = Field(
        default=None,
        description="The person's start date in the organisation, from HR; unset when HR did "
        "not send it.",
    )


@registry.register
class PersonRegistered(_Profile, name="person-registered", version=1):
    """A person appeared in the HR sync for the first time."""


@registry.register
class PersonUpdated(_Profile, name="person-updated", version=1):
    """A person's HR data changed; the event carries the whole new profile."""


@registry.register
class PersonLeft(DomainEvent, name="person-left", version=1):
    """A person left the organisation; their pairings end with it."""

    person_id: str


class _KamuProfile(DomainEvent):
    person_id: str
    capacity: int = Field(ge=1, le=10)
    hours_per_month: float = Field(gt=0, le=160)
    topics: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)


@registry.register
class KamuVolunteered(_KamuProfile, name="kamu-volunteered", version=1):
    """Someone volunteered as a Kamu, with how many colleagues and hours they can give."""


@registry.register
class KamuProfileUpdated(_KamuProfile, name="kamu-profile-updated", version=1):
    """A Kamu changed their capacity, hours, topics or languages."""


@registry.register
class KamuTrainingCompleted(DomainEvent, name="kamu-training-completed", version=1):
    """People Operations recorded a completed Kamu training."""

    person_id: str
    training: str
    completed_on: date


@registry.register
class KamuPaused(DomainEvent, name="kamu-paused", version=1):
    """A Kamu takes no new requests for now; existing pairings go on."""

    person_id: str


@registry.register
class KamuResumed(DomainEvent, name="kamu-resumed", version=1):
    """A paused Kamu takes requests again."""

    person_id: str


@registry.register
class KamuRetired(DomainEvent, name="kamu-retired", version=1):
    """A Kamu stopped volunteering: no new pairings, existing ones go on."""

    person_id: str


class _PairingEvent(DomainEvent):
    pairing_id: str
    colleague_id: str
    kamu_id: str


@registry.register
class PairingRequested(_PairingEvent, name="pairing-requested", version=1):
    """A colleague (or People Operations for them) asked a Kamu to pair."""

    requested_by: str
    message: Annotated[str | None, PersonalData(subject="colleague_id")] = None


@registry.register
class PairingCreated(_PairingEvent, name="pairing-created", version=1):
    """The Kamu accepted: the pairing is active with its agreed meeting cadence."""

    cadence_weeks: int = Field(ge=1, le=12)
    meeting_minutes: int = Field(ge=15, le=240)
    began_at: AwareDatetime | None = Field(
        default=None,
        description="When the pairing really began, if before it was recorded here (a "
        "programme's history moved into Kamu); unset: it began when this event happened.",
    )


@registry.register
class PairingDeclined(_PairingEvent, name="pairing-declined", version=1):
    """The Kamu (or People Operations) declined the request."""


@registry.register
class PairingWithdrawn(_PairingEvent, name="pairing-withdrawn", version=1):
    """The colleague (or People Operations) withdrew the request before an answer."""


@registry.register
class PairingEnded(_PairingEvent, name="pairing-ended", version=1):
    """Either party or People Operations ended an active pairing; no reason required."""

    ended_by: str


@registry.register
class PairingChangeRequested(_PairingEvent, name="pairing-change-requested", version=1):
    """Confidential: the colleague asked People Operations for another Kamu."""
