"""Which event types a service knows, and the translation between events and wire data.

A registry is per *producing* service: ``EventRegistry("goals")`` holds the goals service's
events, and its types are ``kamu.goals.<name>.v<N>``. A consumer in another service declares its
own minimal ``TolerantEvent`` models of the events it reads and registers them in its own
``EventRegistry("goals")`` -- the producer's service name -- so types match without importing the
producer's code. A consumer reading several services keeps one registry per producer and picks it
by the service in the type (``parse_ce_type``); every other registry skips the event.

Versions: a name may be registered at several versions, the highest is current. To decode an
older version, its class must stay registered (it says which fields were personal in that
version) and upcasters must lead step by step from it to the current version. ``decode`` returns
None for types it does not know and counts them in ``kamu_events_unknown_total{type}``.
"""

import copy
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Counter
from pydantic import ValidationError

from kamu_shared.events.base import DomainEvent, personal_fields
from kamu_shared.events.envelope import Envelope
from kamu_shared.events.errors import EventDecodeError, RegistryError
from kamu_shared.events.naming import (
    ce_type_for,
    check_name,
    check_version,
    dataschema_for,
    parse_ce_type,
    source_for,
    topic_for,
)
from kamu_shared.events.serialization import (
    NO_PROTECTION,
    JsonObject,
    PersonalDataProtector,
    from_data,
    to_data,
)

__all__ = [
    "UNKNOWN_EVENTS",
    "EventDecodeError",
    "EventRegistry",
    "RegistryError",
    "Upcaster",
    "parse_ce_type",
]

UNKNOWN_EVENTS = Counter(
    "kamu_events_unknown",
    "Events skipped because this process does not know their type (another service's, or a "
    "version it has not learned yet)",
    ["type"],
)

Upcaster = Callable[[JsonObject], JsonObject]
"""Turns an event's data at version N into data at version N+1."""

E = TypeVar("E", bound=DomainEvent)
U = TypeVar("U", bound=Upcaster)


class EventRegistry:
    """The event types of one producing service, with their upcasters."""

    def __init__(self, service: str, *, protector: PersonalDataProtector = NO_PROTECTION) -> None:
        self._service = check_name("service name", service)
        self._protector = protector
        self._classes: dict[tuple[str, int], type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def __repr__(self) -> str:
        return f"EventRegistry({self._service!r}, {len(self._classes)} event types)"

    @property
    def service(self) -> str:
        """The producing service whose events this registry knows."""
        return self._service

    @property
    def source(self) -> str:
        """The CloudEvents source of this service's events: ``/kamu/<service>``."""
        return source_for(self._service)

    @property
    def topic(self) -> str:
        """The default topic of this service's events: ``kamu.<service>.events``."""
        return topic_for(self._service)

    def register(self, cls: type[E]) -> type[E]:
        """Add an event class (usable as a class decorator); refuses a duplicate name+version."""
        if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
            raise RegistryError(f"{cls!r} is not a DomainEvent subclass")
        if not cls.event_name:
            raise RegistryError(
                f"{cls.__qualname__} has no wire name: declare it with class keywords, "
                f'for example class {cls.__name__}(DomainEvent, name="thing-created", version=1)'
            )
        key = (cls.event_name, cls.event_version)
        if key in self._classes:
            raise RegistryError(
                f"{self.ce_type_of(*key)} is already registered as "
                f"{self._classes[key].__qualname__}: a shipped version is never redefined, "
                "add an optional field or a new version with an upcaster"
            )
        personal_fields(cls)  # fails now, not at the first event, if a marker is wrong
        self._classes[key] = cls
        return cls

    def upcaster(self, name: str, from_version: int) -> Callable[[U], U]:
        """Decorator registering ``fn(data) -> data`` that turns ``name`` data at ``from_version``
        into data at ``from_version + 1``. It gets its own copy of the data and may change it."""
        key = (check_name("event name", name), check_version(from_version))

        def decorate(fn: U) -> U:
            if key in self._upcasters:
                raise RegistryError(
                    f"an upcaster from {self.ce_type_of(*key)} to v{from_version + 1} is "
                    "already registered"
                )
            self._upcasters[key] = fn
            return fn

        return decorate

    def events(self) -> list[type[DomainEvent]]:
        """Every registered class, ordered by name and version."""
        return [self._classes[key] for key in sorted(self._classes)]

    def current(self, name: str) -> type[DomainEvent]:
        """The class of the highest registered version of ``name``."""
        versions = [v for (n, v) in self._classes if n == name]
        if not versions:
            raise RegistryError(f"no event named {name!r} is registered for {self._service!r}")
        return self._classes[(name, max(versions))]

    def check(self) -> None:
        """Raise RegistryError unless every older version has upcasters up to the current one.

        Call it in a test of each service; decode also fails on a gap, but only when an event of
        that version arrives.
        """
        problems = [
            f"no upcaster from {self.ce_type_of(name, step)} to v{step + 1}"
            for (name, version) in self._classes
            for step in range(version, self.current(name).event_version)
            if (name, step) not in self._upcasters
        ]
        problems += [
            f"upcaster from {self.ce_type_of(name, version)} leads to no registered version"
            for (name, version) in self._upcasters
            if not any(n == name and v > version for (n, v) in self._classes)
        ]
        if problems:
            raise RegistryError(f"{self!r} is incomplete: " + "; ".join(sorted(set(problems))))

    def knows(self, ce_type: str) -> bool:
        """Whether ``decode`` would return an event for ``ce_type`` (no counting, no errors)."""
        try:
            service, name, version = parse_ce_type(ce_type)
        except EventDecodeError:
            return False
        return service == self._service and (name, version) in self._classes

    def ce_type_of(self, name: str, version: int) -> str:
        """The CloudEvents type of ``name`` at ``version`` in this registry's service."""
        return ce_type_for(self._service, name, version)

    def ce_type(self, cls: type[DomainEvent]) -> str:
        """The CloudEvents type of a registered class: ``kamu.<service>.<name>.v<N>``."""
        self._require_registered(cls)
        return self.ce_type_of(cls.event_name, cls.event_version)

    def dataschema(self, cls: type[DomainEvent]) -> str:
        """The stable URI of a registered class's JSON schema (``ce_dataschema`` and ``$id``)."""
        self._require_registered(cls)
        return dataschema_for(self._service, cls.event_name, cls.event_version)

    def encode(
        self,
        event: DomainEvent,
        *,
        subject: str | None = None,
        protector: PersonalDataProtector | None = None,
    ) -> tuple[str, JsonObject]:
        """``(ce_type, data)`` of a registered event; personal fields go through the protector.

        Pass the aggregate id as ``subject``: a real protector needs it for personal fields
        without an explicit subject.
        """
        cls = type(event)
        ce_type = self.ce_type(cls)
        return ce_type, (protector or self._protector).protect(cls, to_data(event), subject)

    def decode(
        self,
        ce_type: str,
        data: JsonObject,
        *,
        subject: str | None = None,
        protector: PersonalDataProtector | None = None,
    ) -> DomainEvent | None:
        """The event as the current version's model, or None if this registry does not know
        the type. Raises EventDecodeError for a malformed type or data that does not fit."""
        service, name, version = parse_ce_type(ce_type)
        cls = self._classes.get((name, version)) if service == self._service else None
        if cls is None:
            UNKNOWN_EVENTS.labels(ce_type).inc()
            return None
        current = self.current(name)
        data = (protector or self._protector).reveal(cls, data, subject)
        if version < current.event_version:
            data = self._upcast(ce_type, name, version, current.event_version, data)
        try:
            return from_data(current, data)
        except ValidationError as exc:
            upcast = f" (upcast to v{current.event_version})" if current is not cls else ""
            raise EventDecodeError(
                f"{ce_type} data{upcast} does not fit {current.__qualname__}: {_problems(exc)}"
            ) from exc

    def decode_envelope(
        self, envelope: Envelope, *, protector: PersonalDataProtector | None = None
    ) -> DomainEvent | None:
        """``decode`` of an envelope's type and data, with its subject as the aggregate subject."""
        return self.decode(
            envelope.type, envelope.data, subject=envelope.subject, protector=protector
        )

    def _upcast(
        self, ce_type: str, name: str, version: int, target: int, data: JsonObject
    ) -> JsonObject:
        data = copy.deepcopy(data)
        for step in range(version, target):
            upcaster = self._upcasters.get((name, step))
            if upcaster is None:
                raise RegistryError(
                    f"cannot decode {ce_type}: no upcaster from v{step} to v{step + 1}; "
                    f"register one with @registry.upcaster({name!r}, from_version={step})"
                )
            try:
                data = upcaster(data)
            except Exception as exc:
                raise EventDecodeError(
                    f"{ce_type} data could not be upcast from v{step} to v{step + 1}: {exc!r}"
                ) from exc
        return data

    def _require_registered(self, cls: type[DomainEvent]) -> None:
        key = (cls.event_name, cls.event_version)
        if self._classes.get(key) is not cls:
            raise RegistryError(
                f"{cls.__qualname__} is not registered in {self!r}: decorate it with "
                "@registry.register"
            )


def _problems(exc: ValidationError) -> str:
    """Pydantic's problems without the input values, which may be personal data."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(data)'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    )
