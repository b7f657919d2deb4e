"""Kamu profiles, given-when-then."""

from datetime import date

from kamu_pairing.domain import kamus
from kamu_pairing.domain.errors import NotFoundError, RuleViolated
from kamu_pairing.domain.events import (
    KamuPaused,
    KamuProfileUpdated,
    KamuResumed,
    KamuRetired,
    KamuTrainingCompleted,
    KamuVolunteered,
)
from kamu_shared.testing.given_when_then import Decider

OFFER = kamus.Offer(capacity=3, hours_per_month=6, topics=("goals",), languages=("en",))
volunteered = KamuVolunteered(
    person_id="k", capacity=3, hours_per_month=6, topics=["goals"], languages=["en"]
)
retired = KamuRetired(person_id="k")


def decider(decide):
    return Decider(kamus.Kamu(), decide, kamus.evolve)


def test_volunteering_then_changing_the_offer():
    bigger = kamus.Offer(capacity=5, hours_per_month=10, topics=("goals",), languages=("en",))
    decider(kamus.decide_volunteer).given().when(kamus.Volunteer("k", OFFER)).then(volunteered)
    decider(kamus.decide_volunteer).given(volunteered).when(kamus.Volunteer("k", bigger)).then(
        KamuProfileUpdated(
            person_id="k", capacity=5, hours_per_month=10, topics=["goals"], languages=["en"]
        )
    )
    decider(kamus.decide_volunteer).given(volunteered).when(kamus.Volunteer("k", OFFER)).then()


def test_volunteering_again_after_retiring_starts_afresh():
    decider(kamus.decide_volunteer).given(volunteered, retired).when(
        kamus.Volunteer("k", OFFER)
    ).then(volunteered)


def test_training_is_recorded_once():
    done = KamuTrainingCompleted(person_id="k", training="basics", completed_on=date(2026, 1, 5))
    train = kamus.RecordTraining("k", "basics", date(2026, 1, 5))
    decider(kamus.decide_training).given(volunteered).when(train).then(done)
    decider(kamus.decide_training).given(volunteered, done).when(train).then()
    decider(kamus.decide_training).given().when(train).then_raises(NotFoundError)


def test_pause_and_resume():
    decider(kamus.decide_pause).given(volunteered).when(kamus.Pause("k")).then(
        KamuPaused(person_id="k")
    )
    decider(kamus.decide_resume).given(volunteered, KamuPaused(person_id="k")).when(
        kamus.Resume("k")
    ).then(KamuResumed(person_id="k"))
    decider(kamus.decide_resume).given(volunteered).when(kamus.Resume("k")).then()


def test_a_retired_kamu_cannot_pause_or_resume():
    decider(kamus.decide_pause).given(volunteered, retired).when(kamus.Pause("k")).then_raises(
        RuleViolated, match="retired"
    )
    decider(kamus.decide_resume).given(volunteered, retired).when(kamus.Resume("k")).then_raises(
        RuleViolated, match="retired"
    )


def test_retiring_once():
    decider(kamus.decide_retire).given(volunteered).when(kamus.Retire("k")).then(retired)
    decider(kamus.decide_retire).given(volunteered, retired).when(kamus.Retire("k")).then()
    decider(kamus.decide_retire).given().when(kamus.Retire("k")).then_raises(NotFoundError)
