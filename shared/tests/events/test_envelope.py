"""The CloudEvents Kafka binding: round trips, exact bytes, and clear errors on bad records."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kamu_shared.events import Envelope, EnvelopeError

EVENT_ID = uuid.UUID("0190a6f4-1c2b-7d3e-8f40-123456789abc")


def an_envelope(**changes) -> Envelope:
    envelope = Envelope(
        id=EVENT_ID,
        source="/kamu/example",
        type="kamu.example.thing-created.v2",
        subject="thing-1",
        time=datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC),
        sequence=3,
        data={"thing_id": "thing-1", "label": "Café ☕", "size": 2},
        correlation_id="corr-1",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    return replace(envelope, **changes)


def headers_without(name: str) -> list[tuple[str, bytes]]:
    _, _, headers = an_envelope().to_kafka()
    return [(k, v) for k, v in headers if k != name]


def with_header(name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*headers_without(name), (name, value)]


def test_the_kafka_record_has_exact_bytes():
    key, value, headers = an_envelope().to_kafka()

    assert key == b"thing-1"
    assert value == b'{"label":"Caf\xc3\xa9 \xe2\x98\x95","size":2,"thing_id":"thing-1"}'
    assert headers == [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"0190a6f4-1c2b-7d3e-8f40-123456789abc"),
        ("ce_source", b"/kamu/example"),
        ("ce_type", b"kamu.example.thing-created.v2"),
        ("ce_subject", b"thing-1"),
        ("ce_time", b"2024-05-01T12:00:00.250000Z"),
        ("ce_sequence", b"3"),
        ("ce_correlationid", b"corr-1"),
        ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("content-type", b"application/json"),
    ]


def test_an_envelope_survives_the_round_trip():
    envelope = an_envelope(
        dataschema="urn:kamu:schema:example:thing-created:v2",
        causation_id="cmd-9",
        actor="person-7",
    )

    assert Envelope.from_kafka(*envelope.to_kafka()) == envelope


def test_a_minimal_envelope_survives_the_round_trip():
    envelope = an_envelope(correlation_id=None, traceparent=None, data={})

    key, value, headers = envelope.to_kafka()

    assert [name for name, _ in headers if not name.startswith("ce_")] == ["content-type"]
    assert Envelope.from_kafka(key, value, headers) == envelope


def test_time_is_kept_in_utc():
    envelope = an_envelope(time=datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))

    assert envelope.time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert envelope.time.tzinfo is UTC


def test_a_naive_time_is_refused():
    with pytest.raises(EnvelopeError, match="naive"):
        an_envelope(time=datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01t12:00:00.123456789z", datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_ce_time_accepts_rfc3339_with_z_or_an_offset(text, expected):
    _, value, _ = an_envelope().to_kafka()

    envelope = Envelope.from_kafka(b"thing-1", value, with_header("ce_time", text.encode()))

    assert envelope.time == expected


def test_the_dedup_key_is_source_and_id():
    assert an_envelope().dedup_key() == ("/kamu/example", EVENT_ID)


def test_a_missing_ce_id_is_named():
    _, value, _ = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match="no ce_id header"):
        Envelope.from_kafka(b"thing-1", value, headers_without("ce_id"))


@pytest.mark.parametrize(
    "text", ["yesterday", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z"]
)
def test_a_bad_ce_time_is_named(text):
    _, value, _ = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match=r"ce_time .* (RFC 3339|valid date)"):
        Envelope.from_kafka(b"thing-1", value, with_header("ce_time", text.encode()))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (b"not json", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b'{"x": NaN}', "not UTF-8 JSON"),
        (b"[1, 2]", "JSON list, expected an object"),
        (None, "tombstone"),
    ],
)
def test_a_value_that_is_not_a_json_object_is_named(value, problem):
    _, _, headers = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match=problem):
        Envelope.from_kafka(b"thing-1", value, headers)


@pytest.mark.parametrize(
    ("header", "raw", "problem"),
    [
        ("ce_specversion", b"0.3", "ce_specversion '0.3' is not supported"),
        ("ce_id", b"42", "ce_id '42' is not a UUID"),
        ("ce_sequence", b"-1", "ce_sequence '-1' is not"),
        ("content-type", b"application/avro", "content-type 'application/avro'"),
        ("ce_source", b"\xff", "ce_source is not UTF-8"),
    ],
)
def test_a_malformed_header_is_named(header, raw, problem):
    _, value, _ = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match=problem):
        Envelope.from_kafka(b"thing-1", value, with_header(header, raw))


def test_errors_name_the_event_when_its_headers_allow():
    _, value, _ = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match=r"ce_type=kamu\.example\.thing-created\.v2"):
        Envelope.from_kafka(b"thing-1", value, with_header("ce_sequence", b"three"))


def test_a_key_that_differs_from_the_subject_is_refused():
    _, value, headers = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match="differs from ce_subject"):
        Envelope.from_kafka(b"thing-2", value, headers)


def test_a_missing_key_is_accepted_and_unknown_headers_are_ignored():
    _, value, headers = an_envelope().to_kafka()

    envelope = Envelope.from_kafka(None, value, [*headers, ("ce_future", b"x"), ("other", b"y")])

    assert envelope == an_envelope()


def test_a_repeated_header_is_refused():
    _, value, headers = an_envelope().to_kafka()

    with pytest.raises(EnvelopeError, match="ce_type header twice"):
        Envelope.from_kafka(b"thing-1", value, [*headers, ("ce_type", b"kamu.example.x.v1")])
