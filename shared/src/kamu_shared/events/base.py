"""Domain events: frozen pydantic models that declare their wire name and version explicitly.

The name and version are part of the published contract, so they are class keywords and never
derived from the class or module name: renaming or moving a class never changes the wire::

    class ThingCreated(DomainEvent, name="thing-created", version=1):
        thing_id: str
        label: Annotated[str, PersonalData()]

A class without ``name`` is an abstract base (for shared fields or config) and cannot be
registered. Fields marked ``PersonalData`` are what crypto-shredding will encrypt per person.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

from kamu_shared.events.naming import check_name, check_version


@dataclass(frozen=True)
class PersonalData:
    """Marks a field as a person's data, so it can be encrypted with that person's key.

    ``subject`` names the field of the same event that holds the id of the person the data belongs
    to; ``None`` means the event's aggregate subject (the envelope's ``subject``).
    """

    subject: str | None = None


class DomainEvent(BaseModel):
    """Base of every event: immutable, and strict about fields so a producer's typo fails early."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_name: ClassVar[str] = ""
    event_version: ClassVar[int] = 0

    def __init_subclass__(cls, name: str | None = None, version: int = 1, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is None:
            if version != 1:
                raise TypeError(f"{cls.__qualname__} declares version={version} but no name=")
            # An abstract base: it must not inherit a concrete parent's identity.
            cls.event_name = ""
            cls.event_version = 0
            return
        try:
            cls.event_name = check_name("event name", name)
            cls.event_version = check_version(version)
        except ValueError as exc:
            raise TypeError(f"{cls.__qualname__}: {exc}") from exc


class TolerantEvent(DomainEvent):
    """Base of a consumer's own minimal model of another service's event: it declares only the
    fields it reads and ignores the rest, so the producer can add optional fields freely."""

    model_config = ConfigDict(extra="ignore")


def personal_fields(cls: type[DomainEvent]) -> dict[str, str | None]:
    """Map each personal-data key of ``cls`` to the key of its subject field (None: aggregate).

    Keys are as they appear in the event's data (the alias if a field has one). Markers are found
    on the field itself and inside ``Optional``/``list``/``dict`` types; a marker inside a nested
    model is refused, because the protector only sees top-level fields.
    """
    return dict(_personal_fields(cls))


@functools.cache
def _personal_fields(cls: type[DomainEvent]) -> dict[str, str | None]:
    fields = cls.model_fields
    found: dict[str, str | None] = {}
    for field_name, info in fields.items():
        markers = {m for m in info.metadata if isinstance(m, PersonalData)}
        markers.update(_markers_in(info.annotation))
        if _has_nested_personal_data(info.annotation):
            raise TypeError(
                f"{cls.__qualname__}.{field_name}: PersonalData inside a nested model is not "
                "supported; mark a top-level field of the event instead"
            )
        if not markers:
            continue
        if len(markers) > 1:
            raise TypeError(f"{cls.__qualname__}.{field_name}: conflicting PersonalData markers")
        subject = markers.pop().subject
        if subject is not None and subject not in fields:
            raise TypeError(
                f"{cls.__qualname__}.{field_name}: PersonalData(subject={subject!r}) names no "
                f"field of the event; use one of {sorted(fields)}"
            )
        found[_wire_key(field_name, info)] = (
            None if subject is None else _wire_key(subject, fields[subject])
        )
    for key, subject_key in found.items():
        if subject_key is not None and subject_key in found:
            raise TypeError(
                f"{cls.__qualname__}.{key}: its subject field {subject_key!r} is itself personal "
                "data; the id that selects the key must stay readable"
            )
    return found


def _wire_key(field_name: str, info: FieldInfo) -> str:
    return info.serialization_alias or info.alias or field_name


def _markers_in(annotation: Any) -> Iterator[PersonalData]:
    if get_origin(annotation) is Annotated:
        yield from (m for m in annotation.__metadata__ if isinstance(m, PersonalData))
    for arg in get_args(annotation):
        yield from _markers_in(arg)


def _has_nested_personal_data(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:  # a recursive model: already being looked at
            return False
        inner = seen | {annotation}
        return any(
            any(isinstance(m, PersonalData) for m in info.metadata)
            or any(True for _ in _markers_in(info.annotation))
            or _has_nested_personal_data(info.annotation, inner)
            for info in annotation.model_fields.values()
        )
    return any(_has_nested_personal_data(arg, seen) for arg in get_args(annotation))
