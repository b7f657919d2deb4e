"""The registry: wire types, duplicate refusal, upcasting, unknown types and invalid data."""

from typing import Annotated, Any

import pytest
from prometheus_client import REGISTRY

from kamu_shared.events import (
    DomainEvent,
    EventDecodeError,
    EventRegistry,
    EventTypeError,
    PersonalData,
    RegistryError,
    TolerantEvent,
    parse_ce_type,
)
from kamu_shared.events.serialization import from_data, to_data

registry = EventRegistry("example")


@registry.register
class ThingCreatedV1(DomainEvent, name="thing-created", version=1):
    """A thing was created (first shape: a title)."""

    thing_id: str
    title: Annotated[str, PersonalData()]


@registry.register
class ThingCreated(DomainEvent, name="thing-created", version=2):
    """A thing was created, with a label and a size."""

    thing_id: str
    label: Annotated[str, PersonalData()]
    size: int


@registry.upcaster("thing-created", from_version=1)
def _title_becomes_label(data: dict[str, Any]) -> dict[str, Any]:
    data["label"] = data.pop("title")
    data["size"] = 1
    return data


def unknown_count(ce_type: str) -> float:
    return REGISTRY.get_sample_value("kamu_events_unknown_total", {"type": ce_type}) or 0.0


def test_ce_type_is_kamu_service_name_version():
    assert registry.ce_type(ThingCreated) == "kamu.example.thing-created.v2"
    assert registry.ce_type(ThingCreatedV1) == "kamu.example.thing-created.v1"
    assert parse_ce_type("kamu.example.thing-created.v2") == ("example", "thing-created", 2)


def test_source_topic_and_dataschema_follow_the_service():
    assert registry.source == "/kamu/example"
    assert registry.topic == "kamu.example.events"
    assert registry.dataschema(ThingCreated) == "urn:kamu:schema:example:thing-created:v2"


@pytest.mark.parametrize(
    "ce_type",
    [
        "thing-created",
        "kamu.example.thing-created",
        "kamu.example.thing-created.v0",
        "x.a.b.v1",
        "kamu.example.Thing.v1",
        "kamu.ex.ample.thing.v1",
    ],
)
def test_malformed_ce_types_are_refused_with_the_expected_form(ce_type):
    with pytest.raises(EventTypeError, match=r"kamu\.<service>\.<event-name>\.v<N>"):
        parse_ce_type(ce_type)


def test_the_highest_registered_version_is_current():
    assert registry.current("thing-created") is ThingCreated
    assert registry.events() == [ThingCreatedV1, ThingCreated]
    registry.check()


def test_a_duplicate_name_and_version_is_refused():
    local = EventRegistry("example")
    local.register(ThingCreated)

    class Again(DomainEvent, name="thing-created", version=2):
        thing_id: str

    with pytest.raises(RegistryError, match="already registered"):
        local.register(Again)


def test_a_duplicate_upcaster_is_refused():
    local = EventRegistry("example")
    local.upcaster("thing-created", 1)(_title_becomes_label)

    with pytest.raises(RegistryError, match="already registered"):
        local.upcaster("thing-created", 1)(_title_becomes_label)


def test_an_abstract_base_cannot_be_registered():
    class Shared(DomainEvent):
        thing_id: str

    with pytest.raises(RegistryError, match="no wire name"):
        EventRegistry("example").register(Shared)


def test_unregistered_classes_have_no_type():
    class Stray(DomainEvent, name="stray"):
        pass

    with pytest.raises(RegistryError, match="not registered"):
        registry.ce_type(Stray)
    with pytest.raises(RegistryError, match="not registered"):
        registry.encode(Stray())


def test_encode_then_decode_gives_the_event_back():
    event = ThingCreated(thing_id="t1", label="Box", size=3)

    ce_type, data = registry.encode(event, subject="t1")

    assert (ce_type, data) == ("kamu.example.thing-created.v2", to_data(event))
    assert registry.decode(ce_type, data, subject="t1") == event


def test_decoding_a_v1_event_upcasts_it_to_the_current_model():
    # given data stored by a producer that still wrote v1
    data = {"thing_id": "t1", "title": "Box"}

    # when it is decoded
    event = registry.decode("kamu.example.thing-created.v1", data)

    # then it is the current model, and the caller's data is untouched
    assert event == ThingCreated(thing_id="t1", label="Box", size=1)
    assert data == {"thing_id": "t1", "title": "Box"}


def test_a_missing_upcaster_is_reported_by_check_and_decode():
    local = EventRegistry("example")
    local.register(ThingCreatedV1)
    local.register(ThingCreated)

    with pytest.raises(RegistryError, match="no upcaster"):
        local.check()
    with pytest.raises(RegistryError, match="from_version=1"):
        local.decode("kamu.example.thing-created.v1", {"thing_id": "t1", "title": "Box"})


@pytest.mark.parametrize(
    "ce_type",
    ["kamu.other.thing-created.v2", "kamu.example.thing-created.v3", "kamu.example.no-such.v1"],
)
def test_unknown_types_decode_to_none_and_are_counted(ce_type):
    before = unknown_count(ce_type)

    assert registry.decode(ce_type, {"anything": 1}) is None

    assert unknown_count(ce_type) == before + 1
    assert not registry.knows(ce_type)


def test_a_known_type_with_invalid_data_raises_event_decode_error():
    with pytest.raises(EventDecodeError, match=r"thing-created\.v2 .*size: Field required") as err:
        registry.decode("kamu.example.thing-created.v2", {"thing_id": "t1", "label": "Secret"})

    assert "Secret" not in str(err.value)  # personal data stays out of error messages


def test_an_upcaster_failing_on_bad_data_raises_event_decode_error():
    with pytest.raises(EventDecodeError, match="upcast from v1 to v2"):
        registry.decode("kamu.example.thing-created.v1", {"thing_id": "t1"})


def test_a_malformed_type_raises_event_decode_error():
    with pytest.raises(EventDecodeError, match="malformed"):
        registry.decode("thing-created", {})


def test_a_consumer_registers_its_tolerant_model_under_the_producers_service():
    # given a consumer's own minimal model of the producer's event
    producer_events = EventRegistry("example")

    @producer_events.register
    class ThingCreatedSeen(TolerantEvent, name="thing-created", version=2):
        thing_id: str

    # when the producer's data arrives
    _, data = registry.encode(ThingCreated(thing_id="t1", label="Box", size=3))
    event = producer_events.decode("kamu.example.thing-created.v2", data)

    # then the consumer sees only what it declared
    assert event == ThingCreatedSeen(thing_id="t1")


class ReversingProtector:
    """Reverses personal strings, tagged with the subject, and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, type[DomainEvent], str | None]] = []

    def protect(self, event_cls, data, subject):
        from kamu_shared.events import personal_fields

        self.calls.append(("protect", event_cls, subject))
        return {
            k: f"{subject}:{v[::-1]}" if k in personal_fields(event_cls) else v
            for k, v in data.items()
        }

    def reveal(self, event_cls, data, subject):
        from kamu_shared.events import personal_fields

        self.calls.append(("reveal", event_cls, subject))
        prefix = f"{subject}:"
        return {
            k: v.removeprefix(prefix)[::-1] if k in personal_fields(event_cls) else v
            for k, v in data.items()
        }


def test_encode_and_decode_pass_personal_data_through_the_protector():
    protector = ReversingProtector()
    protected = EventRegistry("example", protector=protector)
    protected.register(ThingCreated)
    event = ThingCreated(thing_id="t1", label="Box", size=3)

    _, data = protected.encode(event, subject="t1")

    assert data == {"thing_id": "t1", "label": "t1:xoB", "size": 3}
    assert protected.decode("kamu.example.thing-created.v2", data, subject="t1") == event


def test_old_data_is_revealed_with_its_own_versions_fields_before_upcasting():
    # given v1 data whose personal field is protected
    protector = ReversingProtector()
    data = {"thing_id": "t1", "title": "t1:xoB"}

    # when it is decoded with a per-call protector
    event = registry.decode(
        "kamu.example.thing-created.v1", data, subject="t1", protector=protector
    )

    # then the v1 class told the protector what to reveal, and the upcaster saw plain text
    assert event == ThingCreated(thing_id="t1", label="Box", size=1)
    assert protector.calls == [("reveal", ThingCreatedV1, "t1")]


def test_serialisation_round_trips_json_types():
    import datetime
    import uuid

    class Stamped(DomainEvent, name="stamped"):
        at: datetime.datetime
        ref: uuid.UUID

    event = Stamped(at=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC), ref=uuid.UUID(int=1))

    data = to_data(event)

    assert data == {"at": "2024-05-01T00:00:00Z", "ref": "00000000-0000-0000-0000-000000000001"}
    assert from_data(Stamped, data) == event
