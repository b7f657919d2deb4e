"""The breakdown rule on its own, against an attacker who knows it: for every breakdown of a
few groups, whatever is withheld keeps at least two possible values among all the breakdowns
that would have been published exactly alike (the whole minus the shown groups included)."""

import itertools
from collections import defaultdict

import pytest

from kamu_insights.figures.suppression import breakdown

K = 5
GROUPS = ("A", "B", "C")


def publish(people: dict[str, int]) -> tuple:
    whole = sum(people.values())
    whole_withheld, withheld = breakdown(whole, people, K)
    shown = tuple(None if g in withheld else people[g] for g in GROUPS)
    return (None if whole_withheld else whole, shown)


def test_a_small_group_takes_every_group_with_it_but_not_the_whole():
    assert breakdown(16, {"A": 6, "B": 7, "C": 3}, K) == (False, {"A", "B", "C"})


def test_no_small_group_no_withholding_and_zeros_are_shown():
    assert breakdown(14, {"A": 5, "B": 9, "empty": 0}, K) == (False, set())


def test_groups_that_could_only_be_ones_withhold_the_whole_too():
    people = {g: 1 for g in "ABCDE"}
    assert breakdown(5, people, K) == (True, set(people))


@pytest.mark.parametrize("size", [0, 3])
def test_a_small_whole_withholds_everything(size):
    assert breakdown(size, {"A": size, "B": 0}, K)[0] is (size > 0)


def test_the_attacker_never_pins_a_withheld_group_or_whole():
    alike = defaultdict(list)
    for values in itertools.product(range(13), repeat=len(GROUPS)):
        people = dict(zip(GROUPS, values, strict=True))
        alike[publish(people)].append(people)

    for (whole, shown), candidates in alike.items():
        assert whole is None or whole == 0 or whole >= K, "a small whole is shown"
        assert all(v is None or v == 0 or v >= K for v in shown), "a small group is shown"
        for i, group in enumerate(GROUPS):
            if shown[i] is None:
                possible = {c[group] for c in candidates}
                assert len(possible) > 1, (whole, shown, group, possible)
        if whole is None:
            assert len({sum(c.values()) for c in candidates}) > 1, (shown, candidates)
