"""People from HR, given-when-then."""

from datetime import date

import pytest

from kamu_pairing.domain import people
from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import PersonLeft, PersonRegistered, PersonUpdated, registry
from kamu_shared.events import personal_fields
from kamu_shared.testing.given_when_then import Decider

ADA = people.Profile(display_name="Ada", email="ada@example.org", team="core", manager_id="m-1")
registered = PersonRegistered(person_id="p-1", **vars(ADA))

sync = Decider(people.Person(), people.decide_sync, people.evolve)
leave = Decider(people.Person(), people.decide_leave, people.evolve)


def test_a_new_person_is_registered():
    sync.given().when(people.SyncPerson("p-1", ADA)).then(registered)


def test_a_changed_profile_is_updated_with_the_whole_profile():
    moved = people.Profile(**{**vars(ADA), "team": "platform"})
    sync.given(registered).when(people.SyncPerson("p-1", moved)).then(
        PersonUpdated(person_id="p-1", **vars(moved))
    )


def test_the_same_profile_again_changes_nothing():
    sync.given(registered).when(people.SyncPerson("p-1", ADA)).then()


def test_a_person_who_left_is_not_synced_back():
    sync.given(registered, PersonLeft(person_id="p-1")).when(
        people.SyncPerson("p-1", ADA)
    ).then_raises(RuleViolated, match="left")


def test_nobody_is_their_own_manager():
    own = people.Profile(**{**vars(ADA), "manager_id": "p-1"})
    sync.given().when(people.SyncPerson("p-1", own)).then_raises(RuleViolated, match="own manager")


def test_leaving_marks_the_person_once():
    leave.given(registered).when(people.MarkLeft("p-1")).then(PersonLeft(person_id="p-1"))
    leave.given(registered, PersonLeft(person_id="p-1")).when(people.MarkLeft("p-1")).then()


def test_leaving_an_unknown_person_is_not_found():
    with pytest.raises(NotFoundError):
        people.decide_leave(people.Person(), people.MarkLeft("nobody"))


# ``joined_on``: the start date from HR, part of the profile like every other field.

JOINED = people.Profile(**{**vars(ADA), "joined_on": date(2021, 3, 1)})
registered_with_start = PersonRegistered(person_id="p-1", **vars(JOINED))


def test_a_new_person_is_registered_with_their_start_date():
    sync.given().when(people.SyncPerson("p-1", JOINED)).then(registered_with_start)


def test_the_same_start_date_again_changes_nothing():
    sync.given(registered_with_start).when(people.SyncPerson("p-1", JOINED)).then()


def test_a_corrected_start_date_is_an_update():
    corrected = people.Profile(**{**vars(JOINED), "joined_on": date(2021, 2, 15)})
    sync.given(registered_with_start).when(people.SyncPerson("p-1", corrected)).then(
        PersonUpdated(person_id="p-1", **vars(corrected))
    )


def test_a_start_date_for_someone_registered_without_one_is_an_update():
    sync.given(registered).when(people.SyncPerson("p-1", JOINED)).then(
        PersonUpdated(person_id="p-1", **vars(JOINED))
    )


def test_a_profile_sent_without_its_start_date_clears_it():
    """The body is the whole profile, as for team or manager: a field left out is unset."""
    sync.given(registered_with_start).when(people.SyncPerson("p-1", ADA)).then(
        PersonUpdated(person_id="p-1", **vars(ADA))
    )


def test_events_recorded_before_joined_on_existed_still_decode():
    """v1 gained an optional field: data without it decodes with no start date."""
    data = registered.model_dump(mode="json", exclude={"joined_on"})
    old = registry.decode("kamu.pairing.person-registered.v1", data, subject="p-1")

    assert isinstance(old, PersonRegistered)
    assert old.joined_on is None
    assert registry.decode(
        "kamu.pairing.person-updated.v1",
        PersonUpdated(person_id="p-1", **vars(JOINED)).model_dump(mode="json"),
        subject="p-1",
    ) == PersonUpdated(person_id="p-1", **vars(JOINED))


@pytest.mark.parametrize("event", [PersonRegistered, PersonUpdated])
def test_the_start_date_is_hr_data_like_team_and_manager_not_personal(event):
    personal = personal_fields(event)

    assert {"display_name", "email"} <= set(personal)
    assert not {"joined_on", "team", "manager_id"} & set(personal)
