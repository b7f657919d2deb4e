"""What goes into the event store and what comes out of it."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NO_STREAM = 0
"""Expected version of a stream that must not exist yet."""


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its wire type (``ce_type``) and JSON data, already serialised."""

    event_type: str
    data: dict[str, Any]
    occurred_at: datetime
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    dataschema: str | None = None


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, valid only if the stream is still at ``expected_version``.

    ``expected_version`` is ``NO_STREAM`` (0) for a new stream, or ``None`` to append whatever
    the version is (for streams that never decide on their own state, such as logs).
    """

    stream_id: str
    stream_type: str
    expected_version: int | None
    events: Sequence[NewEvent]


@dataclass(frozen=True)
class Metadata:
    """Who and what caused the events: carried into the envelope's headers."""

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "traceparent": self.traceparent,
            **self.extra,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored, with its global position and its transaction id."""

    position: int
    transaction_id: int
    stream_id: str
    stream_type: str
    version: int
    event_id: uuid.UUID
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, order=True)
class Checkpoint:
    """A point in commit order: everything at or before it has been handled."""

    transaction_id: int = 0
    position: int = 0

    @classmethod
    def after(cls, event: RecordedEvent) -> "Checkpoint":
        return cls(event.transaction_id, event.position)
