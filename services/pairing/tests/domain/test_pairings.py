"""Pairings, given-when-then: every rule a request or an acceptance must pass."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kamu_pairing.domain import pairings as p
from kamu_pairing.domain.errors import RuleViolated
from kamu_pairing.domain.events import (
    PairingChangeRequested,
    PairingCreated,
    PairingDeclined,
    PairingEnded,
    PairingRequested,
    PairingWithdrawn,
)
from kamu_shared.testing.given_when_then import Decider

COLLEAGUE = p.Party("c", exists=True, left=False, manager_id="boss")
KAMU = p.Party("k", exists=True, left=False, manager_id="other-boss")
LOAD = p.KamuLoad(
    status="active", trained=True, capacity=2, hours_per_month=4, active_colleagues=0, hours_used=0
)
requested = PairingRequested(
    pairing_id="x", colleague_id="c", kamu_id="k", requested_by="c", message="hi"
)
created = PairingCreated(
    pairing_id="x", colleague_id="c", kamu_id="k", cadence_weeks=2, meeting_minutes=60
)
ids = {"pairing_id": "x", "colleague_id": "c", "kamu_id": "k"}


def request(**changes):
    return replace(p.RequestPairing("x", COLLEAGUE, KAMU, LOAD, False, "c", "hi"), **changes)


def accept(**changes):
    command = p.AcceptPairing(
        "x",
        COLLEAGUE,
        KAMU,
        LOAD,
        False,
        cadence_weeks=2,
        meeting_minutes=60,
        training_required=True,
    )
    return replace(command, **changes)


def decider(decide):
    return Decider(p.Pairing(), decide, p.evolve)


def test_a_request_is_recorded():
    decider(p.decide_request).given().when(request()).then(requested)


@pytest.mark.parametrize(
    ("changes", "slug"),
    [
        ({"kamu": replace(KAMU, person_id="c")}, "own-kamu"),
        ({"kamu": replace(KAMU, left=True)}, "person-left"),
        ({"colleague": replace(COLLEAGUE, left=True)}, "person-left"),
        ({"kamu": replace(KAMU, person_id="boss")}, "manager-pairing"),
        ({"kamu": replace(KAMU, manager_id="c")}, "manager-pairing"),
        ({"kamu_load": replace(LOAD, status="none")}, "not-a-kamu"),
        ({"kamu_load": replace(LOAD, status="paused")}, "kamu-paused"),
        ({"kamu_load": replace(LOAD, status="retired")}, "kamu-retired"),
        ({"colleague_has_kamu": True}, "already-paired"),
    ],
)
def test_a_request_breaking_a_rule_is_refused(changes, slug):
    with pytest.raises(RuleViolated) as refused:
        p.decide_request(p.Pairing(), request(**changes))
    assert refused.value.slug == slug


def test_acceptance_creates_the_pairing_with_its_cadence():
    decider(p.decide_accept).given(requested).when(accept()).then(created)


def test_a_paused_kamu_may_still_accept_a_request_made_before():
    decider(p.decide_accept).given(requested).when(
        accept(kamu_load=replace(LOAD, status="paused"))
    ).then(created)


def test_acceptance_with_began_at_records_when_the_pairing_really_began():
    began = datetime(2025, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    decider(p.decide_accept).given(requested).when(accept(began_at=began)).then(
        PairingCreated(**ids, cadence_weeks=2, meeting_minutes=60, began_at=began)
    )


def test_acceptance_without_began_at_leaves_it_unset():
    events = p.decide_accept(p.evolve(p.Pairing(), requested), accept())
    assert [type(e) for e in events] == [PairingCreated]
    assert events[0].began_at is None


def test_a_began_at_does_not_lift_the_acceptance_rules():
    began = datetime.now(UTC) - timedelta(days=90)
    decider(p.decide_accept).given(requested).when(
        accept(began_at=began, kamu_load=replace(LOAD, active_colleagues=2))
    ).then_raises(RuleViolated)
    decider(p.decide_accept).given(requested, created).when(accept(began_at=began)).then_raises(
        RuleViolated, match="is active, not requested"
    )


@pytest.mark.parametrize(
    ("changes", "slug"),
    [
        ({"kamu_load": replace(LOAD, active_colleagues=2)}, "kamu-at-capacity"),
        ({"kamu_load": replace(LOAD, hours_used=3.0)}, "kamu-hours-exceeded"),
        ({"cadence_weeks": 1, "meeting_minutes": 90}, "kamu-hours-exceeded"),
        ({"kamu_load": replace(LOAD, trained=False)}, "training-required"),
        ({"kamu_load": replace(LOAD, status="retired")}, "kamu-retired"),
        ({"colleague_has_kamu": True}, "already-paired"),
        ({"kamu": replace(KAMU, left=True)}, "person-left"),
    ],
)
def test_an_acceptance_breaking_a_rule_is_refused(changes, slug):
    with pytest.raises(RuleViolated) as refused:
        p.decide_accept(p.evolve(p.Pairing(), requested), accept(**changes))
    assert refused.value.slug == slug


def test_training_is_not_needed_when_the_setting_is_off():
    decider(p.decide_accept).given(requested).when(
        accept(kamu_load=replace(LOAD, trained=False), training_required=False)
    ).then(created)


def test_hours_come_from_cadence_and_meeting_length():
    assert p.monthly_hours(cadence_weeks=2, meeting_minutes=60) == pytest.approx(2.1667, 1e-3)
    assert p.monthly_hours(cadence_weeks=4, meeting_minutes=60) == pytest.approx(1.0833, 1e-3)


def test_decline_and_withdraw_only_answer_a_request():
    decider(p.decide_decline).given(requested).when(p.DeclinePairing("x")).then(
        PairingDeclined(**ids)
    )
    decider(p.decide_withdraw).given(requested).when(p.WithdrawPairing("x")).then(
        PairingWithdrawn(**ids)
    )
    decider(p.decide_decline).given(requested, created).when(p.DeclinePairing("x")).then_raises(
        RuleViolated, match="is active, not requested"
    )


def test_an_active_pairing_ends_once():
    decider(p.decide_end).given(requested, created).when(p.EndPairing("x", "k")).then(
        PairingEnded(**ids, ended_by="k")
    )
    ended = PairingEnded(**ids, ended_by="k")
    decider(p.decide_end).given(requested, created, ended).when(p.EndPairing("x", "c")).then()
    decider(p.decide_end).given(requested).when(p.EndPairing("x", "c")).then_raises(RuleViolated)


def test_a_change_request_is_recorded_once_on_an_active_pairing():
    changes = Decider(p.ChangeRequests(), p.decide_change_request, p.evolve_change)
    ask = p.RequestChange("x", "c", "k", pairing_active=True)
    changes.given().when(ask).then(PairingChangeRequested(**ids))
    changes.given(PairingChangeRequested(**ids)).when(ask).then()
    changes.given().when(replace(ask, pairing_active=False)).then_raises(
        RuleViolated, match="not active"
    )
