"""Kamu suggestions: eligibility, reasons and ranking, given-when-then (pure, no database)."""

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kamu_pairing.domain.matching import (
    MAX_LIMIT,
    WEIGHTS,
    Candidate,
    Reason,
    Seeker,
    eligible,
    hours_apart,
    suggest,
    utc_offset_hours,
)

WINTER = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
PAIRING_HOURS = 2.0

SEEKER = Seeker(
    person_id="s",
    team="sales",
    manager_id="boss",
    time_zone="Europe/Helsinki",
    languages=frozenset({"fi", "en"}),
    topics=frozenset({"goal setting", "leadership", "stress"}),
    excluded=frozenset({"old-kamu"}),
)
KAMU = Candidate(
    person_id="k",
    team="engineering",
    manager_id="someone",
    time_zone="Europe/Helsinki",
    languages=frozenset({"en", "sv"}),
    topics=frozenset({"goal setting", "leadership", "writing"}),
    capacity=3,
    active_colleagues=1,
    hours_per_month=8.0,
    hours_used=2.0,
    trained=True,
    status="active",
    left=False,
)


def ranked(
    seeker: Seeker = SEEKER,
    candidates: list[Candidate] | None = None,
    *,
    limit: int = 10,
    training_required: bool = False,
    now: datetime = WINTER,
) -> list[str]:
    found = suggest(
        seeker,
        [KAMU] if candidates is None else candidates,
        limit=limit,
        pairing_hours=PAIRING_HOURS,
        training_required=training_required,
        now=now,
    )
    return [s.person_id for s in found]


def is_eligible(candidate: Candidate, *, training_required: bool = False) -> bool:
    return eligible(
        SEEKER, candidate, pairing_hours=PAIRING_HOURS, training_required=training_required
    )


def kamu(person_id: str, **changes) -> Candidate:
    return replace(KAMU, person_id=person_id, **changes)


# Eligibility: each rule on its own excludes an otherwise good candidate.


def test_the_reference_candidate_is_eligible():
    assert is_eligible(KAMU)
    assert ranked() == ["k"]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"person_id": "s"}, id="the seeker themself"),
        pytest.param({"person_id": "old-kamu"}, id="excluded"),
        pytest.param({"status": "paused"}, id="paused"),
        pytest.param({"status": "retired"}, id="retired"),
        pytest.param({"left": True}, id="left the organisation"),
        pytest.param({"active_colleagues": 3}, id="no free place"),
        pytest.param({"active_colleagues": 4}, id="over capacity"),
        pytest.param({"hours_used": 6.5}, id="not enough hours for one more pairing"),
        pytest.param({"person_id": "boss"}, id="the seeker's manager"),
        pytest.param({"manager_id": "s"}, id="the seeker's direct report"),
    ],
)
def test_an_ineligible_candidate_is_never_suggested(changes):
    # given a candidate breaking one rule, next to an eligible one
    candidate = replace(KAMU, **changes)
    other = kamu("other")
    # when suggesting
    # then it is not eligible and not suggested, the other one is
    assert not is_eligible(candidate)
    assert ranked(candidates=[candidate, other]) == ["other"]


def test_hours_exactly_filled_by_the_new_pairing_are_enough():
    full_after = replace(KAMU, hours_used=KAMU.hours_per_month - PAIRING_HOURS)
    assert is_eligible(full_after)


def test_an_untrained_candidate_is_excluded_only_when_training_is_required():
    untrained = replace(KAMU, trained=False)
    assert not is_eligible(untrained, training_required=True)
    assert ranked(candidates=[untrained], training_required=True) == []
    assert is_eligible(untrained, training_required=False)
    assert ranked(candidates=[untrained], training_required=False) == ["k"]


def test_someone_whose_manager_is_the_seekers_manager_is_a_peer_and_eligible():
    assert is_eligible(replace(KAMU, manager_id="boss"))


# Reasons.


def test_every_positive_factor_gives_its_reason():
    # given a Kamu sharing two topics and a language, in another team, in the same zone, trained
    # when suggesting
    [suggestion] = suggest(
        SEEKER, [KAMU], pairing_hours=PAIRING_HOURS, training_required=False, now=WINTER
    )
    # then each factor explains itself, in a fixed order
    assert suggestion.reasons == (
        Reason("free-capacity", "2 of 3 places and 6 of 8 h/month free"),
        Reason("shared-topics", "goal setting, leadership"),
        Reason("shared-languages", "en"),
        Reason("different-team", "engineering"),
        Reason("close-time-zone", "Europe/Helsinki, same time"),
        Reason("trained", "completed the Kamu training"),
    )
    # and the score is the weighted sum of the same factors
    free_share = (2 / 3 + 6 / 8) / 2
    assert suggestion.score == pytest.approx(
        WEIGHTS.free_capacity * free_share
        + 2 * WEIGHTS.shared_topic
        + WEIGHTS.shared_language
        + WEIGHTS.different_team
        + WEIGHTS.close_time_zone
        + WEIGHTS.trained
    )


def test_factors_that_add_nothing_give_no_reason():
    # given a Kamu in the seeker's team, far away, sharing no topic, untrained
    plain = replace(
        KAMU,
        team="sales",
        time_zone="America/Los_Angeles",
        topics=frozenset({"writing"}),
        trained=False,
    )
    # when suggesting
    [suggestion] = suggest(
        SEEKER, [plain], pairing_hours=PAIRING_HOURS, training_required=False, now=WINTER
    )
    # then only free capacity and the shared language speak for them
    assert [r.code for r in suggestion.reasons] == ["free-capacity", "shared-languages"]


def test_a_close_time_zone_says_how_far():
    stockholm = replace(KAMU, time_zone="Europe/Stockholm")
    [suggestion] = suggest(
        SEEKER, [stockholm], pairing_hours=PAIRING_HOURS, training_required=False, now=WINTER
    )
    assert Reason("close-time-zone", "Europe/Stockholm, 1 h apart") in suggestion.reasons


def test_an_unknown_time_zone_is_neutral():
    # given the same Kamu with a zone name nobody knows, and without a zone
    unknown = kamu("a-unknown", time_zone="Mars/Olympus_Mons")
    missing = kamu("b-missing", time_zone=None)
    # when suggesting
    found = suggest(
        SEEKER,
        [unknown, missing],
        pairing_hours=PAIRING_HOURS,
        training_required=False,
        now=WINTER,
    )
    # then neither gets a time-zone reason, and both score the same
    assert all(r.code != "close-time-zone" for s in found for r in s.reasons)
    assert found[0].score == found[1].score


# Ranking.


def test_more_shared_topics_rank_higher():
    one = kamu("a-one", topics=frozenset({"stress"}))
    three = kamu("b-three", topics=frozenset({"stress", "leadership", "goal setting"}))
    none = kamu("c-none", topics=frozenset({"writing"}))
    assert ranked(candidates=[one, none, three]) == ["b-three", "a-one", "c-none"]


def test_closer_time_zones_rank_higher():
    tokyo = kamu("a-tokyo", time_zone="Asia/Tokyo")
    helsinki = kamu("b-helsinki", time_zone="Europe/Helsinki")
    london = kamu("c-london", time_zone="Europe/London")
    assert ranked(candidates=[tokyo, london, helsinki]) == ["b-helsinki", "c-london", "a-tokyo"]


def test_another_team_ranks_above_the_seekers_own_team():
    same = kamu("a-same", team="sales")
    other = kamu("b-other", team="finance")
    unknown = kamu("c-unknown", team=None)
    assert ranked(candidates=[same, unknown, other]) == ["b-other", "c-unknown", "a-same"]


def test_more_free_capacity_ranks_higher():
    busy = kamu("a-busy", active_colleagues=2, hours_used=5.0)
    free = kamu("b-free", active_colleagues=0, hours_used=0.0)
    assert ranked(candidates=[busy, free]) == ["b-free", "a-busy"]


def test_no_common_language_is_eligible_but_always_last():
    # given the best possible Kamu who shares no language with the seeker
    best_but_mute = kamu(
        "a-mute",
        languages=frozenset({"ja"}),
        topics=SEEKER.topics,
        active_colleagues=0,
        hours_used=0.0,
    )
    # and the worst possible one who does, and one whose languages are unknown
    worst = kamu(
        "b-worst",
        team="sales",
        time_zone="Pacific/Honolulu",
        topics=frozenset(),
        active_colleagues=2,
        hours_used=6.0,
        trained=False,
    )
    unknown = replace(worst, person_id="c-unknown", languages=frozenset())
    # when suggesting, then the one without a common language is suggested, but last
    assert ranked(candidates=[best_but_mute, worst, unknown]) == ["b-worst", "c-unknown", "a-mute"]


def test_the_no_common_language_penalty_outweighs_every_other_factor():
    best_others = (
        WEIGHTS.free_capacity
        + WEIGHTS.shared_topic * WEIGHTS.max_topics
        + WEIGHTS.different_team
        + WEIGHTS.close_time_zone
        + WEIGHTS.trained
    )
    worst_shared_or_unknown = WEIGHTS.unknown_language + WEIGHTS.same_team
    assert best_others + WEIGHTS.no_common_language < worst_shared_or_unknown


def test_a_seeker_without_topics_still_gets_suggestions():
    assert ranked(seeker=replace(SEEKER, topics=frozenset())) == ["k"]


def test_nothing_to_suggest():
    assert ranked(candidates=[]) == []


# Limit and ties.


def test_limit_caps_the_answer_and_keeps_the_best():
    # given 30 Kamus, the first five sharing more topics
    candidates = [
        kamu(f"k{i:02d}", topics=SEEKER.topics if i < 5 else frozenset()) for i in range(30)
    ]
    # when asking for 5, 1 or the most allowed
    # then the best come first and no more than asked
    assert ranked(candidates=candidates, limit=5) == ["k00", "k01", "k02", "k03", "k04"]
    assert ranked(candidates=candidates, limit=1) == ["k00"]
    assert len(ranked(candidates=candidates, limit=MAX_LIMIT)) == 30


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_limit_outside_1_to_50_is_refused(limit):
    with pytest.raises(ValueError, match="limit must be between 1 and 50"):
        ranked(limit=limit)


def test_ties_are_broken_by_person_id_whatever_the_input_order():
    # given 40 identical Kamus but for their id, in a shuffled order
    ids = [f"k{i:02d}" for i in range(40)]
    candidates = [kamu(i) for i in ids]
    random.Random(7).shuffle(candidates)
    # when asking for the best 10, twice, in two orders
    first = ranked(candidates=candidates)
    second = ranked(candidates=candidates[::-1])
    # then the lowest ids win, in order, both times
    assert first == second == ids[:10]


def test_scores_equal_on_paper_tie_exactly_and_fall_back_to_person_id():
    # given two Kamus whose free shares are both 7/12, computed from different fractions
    # (as floats, 1 - 1/2 + 1 - 1/12 and 1 - 1/3 + 1 - 2/8 differ in their last bit)
    a = kamu("a", capacity=2, active_colleagues=1, hours_per_month=12.0, hours_used=1.0)
    b = kamu("b", capacity=3, active_colleagues=1, hours_per_month=8.0, hours_used=2.0)
    # when suggesting, in either order
    found = suggest(
        SEEKER, [b, a], pairing_hours=PAIRING_HOURS, training_required=False, now=WINTER
    )
    # then their scores are equal and the lower id comes first
    assert found[0].score == found[1].score
    assert [s.person_id for s in found] == ["a", "b"]
    assert ranked(candidates=[a, b]) == ["a", "b"]


def test_a_naive_now_and_negative_pairing_hours_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ranked(now=datetime(2026, 1, 15, 9, 0))  # naive: no tzinfo
    with pytest.raises(ValueError, match="pairing_hours"):
        suggest(SEEKER, [KAMU], pairing_hours=-1, training_required=False, now=WINTER)
    with pytest.raises(ValueError, match="pairing_hours"):
        eligible(SEEKER, KAMU, pairing_hours=float("nan"), training_required=False)


# Time zones.


@pytest.mark.parametrize("now", [WINTER, SUMMER], ids=["winter", "summer"])
def test_helsinki_and_stockholm_are_one_hour_apart_in_any_season(now):
    helsinki = utc_offset_hours("Europe/Helsinki", now)
    stockholm = utc_offset_hours("Europe/Stockholm", now)
    assert helsinki is not None
    assert stockholm is not None
    assert helsinki - stockholm == 1


def test_offsets_follow_daylight_saving_time_at_now():
    assert utc_offset_hours("Europe/Helsinki", WINTER) == 2
    assert utc_offset_hours("Europe/Helsinki", SUMMER) == 3
    assert utc_offset_hours("Asia/Kolkata", WINTER) == 5.5
    assert utc_offset_hours("No/Such_Zone", WINTER) is None
    assert utc_offset_hours("../etc/passwd", WINTER) is None


def test_hours_apart_go_round_the_clock():
    assert hours_apart(2, 3) == 1
    assert hours_apart(14, -10) == 0
    assert hours_apart(12, -11) == 1
    assert hours_apart(5.5, -3) == 8.5


def test_each_zone_is_looked_up_once_per_call_and_reused_within_the_minute():
    # given 3,000 Kamus spread over three zones, the seeker in one of them
    zones = ["Europe/Helsinki", "Europe/Stockholm", "Asia/Tokyo"]
    candidates = [kamu(f"k{i:04d}", time_zone=zones[i % 3]) for i in range(3000)]
    utc_offset_hours.cache_clear()
    # when suggesting
    ranked(candidates=candidates)
    # then each zone was looked up once
    assert utc_offset_hours.cache_info().misses == 3
    # and a second request in the same minute looks nothing up again
    ranked(candidates=candidates, now=WINTER.replace(second=42))
    assert utc_offset_hours.cache_info().misses == 3
