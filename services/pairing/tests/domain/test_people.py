"""People from HR, given-when-then."""

import pytest

from kamu_pairing.domain import people
from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import PersonLeft, PersonRegistered, PersonUpdated
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
