"""The one place where event objects become JSON data and back.

Keeping this in one place is what lets crypto-shredding plug in later: the registry passes every
event's data through a ``PersonalDataProtector`` right after ``to_data`` (``protect``) and right
before upcasting and ``from_data`` (``reveal``). Until then the identity protector is used.
"""

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from kamu_shared.events.base import DomainEvent

JsonObject = dict[str, Any]
"""An event's data: a JSON object as produced by ``json.loads``."""

E = TypeVar("E", bound=DomainEvent)


def to_data(event: DomainEvent) -> JsonObject:
    """The event as JSON-compatible data (keys are aliases where a field has one)."""
    return event.model_dump(mode="json", by_alias=True)


def from_data(cls: type[E], data: Mapping[str, Any]) -> E:
    """Validate ``data`` into ``cls``; raises pydantic's ValidationError when it does not fit."""
    return cls.model_validate(data)


class PersonalDataProtector(Protocol):
    """Turns the personal fields of an event's data into protected form and back.

    ``event_cls`` is the class of the version the data is in (use ``personal_fields`` on it);
    ``subject`` is the event's aggregate subject, the owner of fields marked
    ``PersonalData()`` without a subject, and None when the caller did not give one.
    Implementations return new data and leave their argument unchanged.
    """

    def protect(
        self, event_cls: type[DomainEvent], data: JsonObject, subject: str | None
    ) -> JsonObject: ...

    def reveal(
        self, event_cls: type[DomainEvent], data: JsonObject, subject: str | None
    ) -> JsonObject: ...


class IdentityProtector:
    """Leaves personal data as it is: the default until crypto-shredding exists."""

    def protect(
        self, event_cls: type[DomainEvent], data: JsonObject, subject: str | None
    ) -> JsonObject:
        return data

    def reveal(
        self, event_cls: type[DomainEvent], data: JsonObject, subject: str | None
    ) -> JsonObject:
        return data


NO_PROTECTION: PersonalDataProtector = IdentityProtector()
