"""A Kafka message as the consumer handles it, independent of aiokafka's record class."""

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kamu_shared.events.envelope import Envelope


@dataclass(frozen=True)
class Message:
    """Where a message came from and its raw bytes: enough to handle, park and replay it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]

    @classmethod
    def from_record(cls, record: Any) -> "Message":
        """From an aiokafka ``ConsumerRecord``."""
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            list(record.headers),
        )

    def headers_json(self) -> list[list[str]]:
        return [[k, base64.b64encode(v).decode()] for k, v in self.headers]

    @staticmethod
    def headers_from_json(data: list[list[str]]) -> list[tuple[str, bytes]]:
        return [(k, base64.b64decode(v)) for k, v in data]


@dataclass(frozen=True)
class Delivery:
    """What a handler receives: the envelope and the decoded (upcast) event."""

    envelope: Envelope
    event: Any
    message: Message


class Decoder(Protocol):
    """Turns an envelope into an event model, or ``None`` for types it does not know.

    An ``EventRegistry`` is one; a consumer reading several services' topics passes several.
    """

    def knows(self, ce_type: str) -> bool: ...

    def decode_envelope(self, envelope: Envelope) -> object | None: ...
