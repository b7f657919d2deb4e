"""How a stored event becomes the CloudEvents envelope that goes on the wire."""

from kamu_shared.events.envelope import Envelope
from kamu_shared.store.records import RecordedEvent


def envelope_for(event: RecordedEvent, source: str) -> Envelope:
    """The envelope of a stored event; metadata written at append time fills the extensions."""
    meta = event.metadata
    return Envelope(
        id=event.event_id,
        source=source,
        type=event.event_type,
        subject=event.stream_id,
        time=event.occurred_at,
        sequence=event.version,
        data=event.data,
        dataschema=meta.get("dataschema"),
        correlation_id=meta.get("correlation_id"),
        causation_id=meta.get("causation_id"),
        actor=meta.get("actor"),
        traceparent=meta.get("traceparent"),
    )
