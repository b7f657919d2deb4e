"""The CloudEvents 1.0 envelope of every event on Kafka, in binary content mode.

Binary mode keeps the event's data as the plain JSON value of the record and carries the
CloudEvents attributes as ``ce_*`` headers, so any Kafka tool shows readable data and consumers
can route on headers without parsing the value. The record key is the aggregate id (``subject``),
which keeps one aggregate's events in order on one partition.

Serialisation is deterministic (sorted keys, compact separators, fixed header order), so the same
envelope always gives the same bytes. Unknown ``ce_*`` headers and other headers are ignored when
reading, so producers may add extensions without breaking consumers.
"""

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from kamu_shared.events.errors import EnvelopeError

__all__ = [
    "CONTENT_TYPE",
    "REQUIRED_HEADERS",
    "SPEC_VERSION",
    "Envelope",
    "EnvelopeError",
    "decode_json",
    "encode_json",
    "format_time",
    "parse_time",
]

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

# RFC 3339 date-time: 'T' separator, seconds required, 'Z' or a numeric offset.
_RFC3339_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
_OPTIONAL_HEADERS = {
    "dataschema": "ce_dataschema",
    "correlation_id": "ce_correlationid",
    "causation_id": "ce_causationid",
    "actor": "ce_actor",
    "traceparent": "traceparent",
}
REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_subject",
    "ce_time",
    "ce_sequence",
)
_KNOWN_HEADERS = {*REQUIRED_HEADERS, *_OPTIONAL_HEADERS.values(), "content-type"}


@dataclass(frozen=True)
class Envelope:
    """One event as it travels on Kafka: CloudEvents attributes plus the JSON data.

    ``time`` must be timezone-aware and is stored in UTC; ``sequence`` is the aggregate version
    the event produced. ``(source, id)`` identifies the event everywhere (``dedup_key``).
    """

    id: uuid.UUID
    source: str
    type: str
    subject: str
    time: datetime
    sequence: int
    data: dict[str, Any] = field(hash=False)
    dataschema: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str | None = None

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise EnvelopeError(f"Envelope time {self.time!r} is naive: give a timezone (UTC)")
        object.__setattr__(self, "time", self.time.astimezone(UTC))
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int):
            raise EnvelopeError(f"Envelope sequence {self.sequence!r} is not an int")
        if self.sequence < 0:
            raise EnvelopeError(f"Envelope sequence {self.sequence} is negative")
        for name in ("source", "type", "subject"):
            if not getattr(self, name):
                raise EnvelopeError(f"Envelope {name} is empty")

    def dedup_key(self) -> tuple[str, uuid.UUID]:
        """``(source, id)``: the key every store and consumer de-duplicates on."""
        return self.source, self.id

    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """``(key, value, headers)`` of the Kafka record, in binary content mode."""
        headers = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", str(self.id)),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_subject", self.subject),
            ("ce_time", format_time(self.time)),
            ("ce_sequence", str(self.sequence)),
        ]
        for attribute, header in _OPTIONAL_HEADERS.items():
            value = getattr(self, attribute)
            if value is not None:
                headers.append((header, value))
        headers.append(("content-type", CONTENT_TYPE))
        return (
            self.subject.encode(),
            encode_json(self.data),
            [(name, value.encode()) for name, value in headers],
        )

    @classmethod
    def from_kafka(
        cls, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
    ) -> "Envelope":
        """Read a Kafka record; raises EnvelopeError naming the missing or malformed part."""
        found = _read_headers(headers)
        missing = [name for name in REQUIRED_HEADERS if name not in found]
        if missing:
            _fail(
                f"record has no {', '.join(missing)} header(s): it is not a Kamu CloudEvent in "
                "binary content mode",
                found,
            )
        if found["ce_specversion"] != SPEC_VERSION:
            _fail(f"ce_specversion {found['ce_specversion']!r} is not supported: use 1.0", found)
        content_type = found.get("content-type")
        if content_type is not None and content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
            _fail(f"content-type {content_type!r} is not supported: expected {CONTENT_TYPE}", found)
        try:
            event_id = uuid.UUID(found["ce_id"])
        except ValueError:
            _fail(f"ce_id {found['ce_id']!r} is not a UUID", found)
        if key is not None and key != found["ce_subject"].encode():
            _fail(f"record key {key!r} differs from ce_subject {found['ce_subject']!r}", found)
        try:
            return cls(
                id=event_id,
                source=found["ce_source"],
                type=found["ce_type"],
                subject=found["ce_subject"],
                time=parse_time(found["ce_time"]),
                sequence=_parse_sequence(found["ce_sequence"]),
                data=decode_json(value),
                dataschema=found.get("ce_dataschema"),
                correlation_id=found.get("ce_correlationid"),
                causation_id=found.get("ce_causationid"),
                actor=found.get("ce_actor"),
                traceparent=found.get("traceparent"),
            )
        except EnvelopeError as exc:
            _fail(str(exc), found)


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC with microseconds and 'Z', e.g. ``2024-05-01T12:00:00.000000Z``."""
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp ('Z' or an offset; extra fraction digits dropped), in UTC."""
    match = _RFC3339_RE.fullmatch(text)
    if match is None:
        raise EnvelopeError(
            f"ce_time {text!r} is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z"
        )
    date, clock, fraction, offset = match.groups()
    fraction = f".{(fraction or '0')[:6]}"
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{clock}{fraction}{offset}").astimezone(UTC)
    except ValueError as exc:
        raise EnvelopeError(f"ce_time {text!r} is not a valid date and time: {exc}") from exc


def encode_json(data: dict[str, Any]) -> bytes:
    """Compact, sorted, UTF-8 JSON: the same data always gives the same bytes."""
    try:
        text = json.dumps(
            data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise EnvelopeError(f"event data is not JSON-serialisable: {exc}") from exc
    return text.encode()


def decode_json(value: bytes | None) -> dict[str, Any]:
    """The JSON object in a record's value; raises EnvelopeError for anything else."""
    if value is None:
        raise EnvelopeError("record value is empty (a tombstone?): expected a JSON object")
    try:
        data = json.loads(value.decode(), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnvelopeError(f"record value is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError(f"record value is JSON {type(data).__name__}, expected an object")
    return data


def _read_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, raw in headers:
        lower = name.lower()
        if lower not in _KNOWN_HEADERS:
            continue
        if lower in found:
            raise EnvelopeError(f"record has the {lower} header twice")
        if raw is None:
            raise EnvelopeError(f"record header {lower} has no value")
        try:
            found[lower] = bytes(raw).decode()
        except UnicodeDecodeError as exc:
            raise EnvelopeError(f"record header {lower} is not UTF-8: {exc}") from exc
    return found


def _parse_sequence(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise EnvelopeError(f"ce_sequence {text!r} is not a non-negative decimal integer")
    return int(text)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _fail(problem: str, found: dict[str, str]) -> NoReturn:
    """Raise EnvelopeError, naming the event when its headers say which one it is."""
    where = ", ".join(f"{h}={found[h]}" for h in ("ce_type", "ce_id") if h in found)
    raise EnvelopeError(f"{problem} ({where})" if where else problem)
