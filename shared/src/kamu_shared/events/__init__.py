"""Kamu's event mechanism: declaring domain events, naming and versioning them on the wire, and
their CloudEvents envelope on Kafka. Pure code, no I/O; stores, relays and consumers build on it.

Start with ``DomainEvent`` (declare an event), ``EventRegistry`` (a service's event types,
upcasters, encode/decode) and ``Envelope`` (the Kafka record). See docs/events.md.
"""

from kamu_shared.events.base import DomainEvent, PersonalData, TolerantEvent, personal_fields
from kamu_shared.events.envelope import Envelope
from kamu_shared.events.errors import (
    EnvelopeError,
    EventDecodeError,
    EventTypeError,
    RegistryError,
)
from kamu_shared.events.naming import parse_ce_type
from kamu_shared.events.registry import EventRegistry
from kamu_shared.events.serialization import PersonalDataProtector

__all__ = [
    "DomainEvent",
    "Envelope",
    "EnvelopeError",
    "EventDecodeError",
    "EventRegistry",
    "EventTypeError",
    "PersonalData",
    "PersonalDataProtector",
    "RegistryError",
    "TolerantEvent",
    "parse_ce_type",
    "personal_fields",
]
