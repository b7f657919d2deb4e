"""Declaring events: explicit wire names and versions, immutability, personal-data markers."""

from typing import Annotated

import pydantic
import pytest

from kamu_shared.events import DomainEvent, PersonalData, TolerantEvent, personal_fields


class ThingCreated(DomainEvent, name="thing-created", version=2):
    """A thing was created."""

    thing_id: str
    owner_id: str
    label: Annotated[str, PersonalData()]
    note: Annotated[str, PersonalData(subject="owner_id")] | None = None
    nicknames: list[Annotated[str, PersonalData()]] = pydantic.Field(default_factory=list)
    size: int = 1


def test_class_keywords_declare_the_wire_name_and_version():
    assert ThingCreated.event_name == "thing-created"
    assert ThingCreated.event_version == 2


def test_version_defaults_to_one():
    class ThingDeleted(DomainEvent, name="thing-deleted"):
        thing_id: str

    assert ThingDeleted.event_version == 1


def test_a_base_without_name_is_abstract_even_below_a_concrete_event():
    class Shared(DomainEvent):
        thing_id: str

    class Derived(ThingCreated):
        pass

    assert Shared.event_name == ""
    assert Derived.event_name == ""


@pytest.mark.parametrize("name", ["ThingCreated", "thing.created", "thing_created", "-x", ""])
def test_wire_names_must_be_kebab_case(name):
    with pytest.raises(TypeError, match="kebab-case"):

        class Bad(DomainEvent, name=name):
            pass


@pytest.mark.parametrize("version", [0, -1, True])
def test_versions_must_be_positive_ints(version):
    with pytest.raises(TypeError, match="version"):

        class Bad(DomainEvent, name="bad", version=version):
            pass


def test_a_version_without_a_name_is_refused():
    with pytest.raises(TypeError, match="no name"):

        class Bad(DomainEvent, version=2):
            pass


def test_events_are_frozen_and_refuse_unknown_fields():
    event = ThingCreated(thing_id="t1", owner_id="p1", label="Box")

    with pytest.raises(pydantic.ValidationError):
        event.size = 2  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ThingCreated(thing_id="t1", owner_id="p1", label="Box", colour="red")  # type: ignore[call-arg]


def test_tolerant_events_ignore_unknown_fields():
    class ThingSeen(TolerantEvent, name="thing-created", version=2):
        thing_id: str

    assert ThingSeen.model_validate({"thing_id": "t1", "label": "Box"}) == ThingSeen(thing_id="t1")


def test_personal_fields_finds_markers_also_inside_optional_and_list():
    assert personal_fields(ThingCreated) == {
        "label": None,
        "note": "owner_id",
        "nicknames": None,
    }


def test_personal_fields_uses_the_wire_keys_of_aliased_fields():
    class Renamed(DomainEvent, name="renamed"):
        person: str = pydantic.Field(alias="personId")
        text: Annotated[str, PersonalData(subject="person")] = pydantic.Field(alias="freeText")

    assert personal_fields(Renamed) == {"freeText": "personId"}


def test_a_personal_subject_must_name_a_field():
    class Bad(DomainEvent, name="bad"):
        note: Annotated[str, PersonalData(subject="person_id")]

    with pytest.raises(TypeError, match="names no field"):
        personal_fields(Bad)


def test_a_personal_subject_must_not_itself_be_personal():
    class Bad(DomainEvent, name="bad"):
        person_id: Annotated[str, PersonalData()]
        note: Annotated[str, PersonalData(subject="person_id")]

    with pytest.raises(TypeError, match="stay readable"):
        personal_fields(Bad)


def test_personal_data_inside_a_nested_model_is_refused():
    class Contact(pydantic.BaseModel):
        email: Annotated[str, PersonalData()]

    class Bad(DomainEvent, name="bad"):
        contacts: list[Contact]

    with pytest.raises(TypeError, match="nested model"):
        personal_fields(Bad)
