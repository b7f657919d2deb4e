"""The breakdown rule on its own: no shown group is small, and what the shown groups leave of
the whole (the withheld groups together) is never small either."""

import random

import pytest

from kamu_insights.figures.suppression import withheld_groups

K = 5


def test_a_small_group_is_withheld_with_the_smallest_other_when_alone_it_would_show():
    # The whole (15) minus A and B would give C (3 people) away: A (the smaller) goes too.
    assert withheld_groups({"A": 6, "B": 7, "C": 3}, K) == {"A", "C"}


def test_small_groups_that_together_make_k_need_no_other():
    assert withheld_groups({"A": 6, "B": 2, "C": 3}, K) == {"B", "C"}


def test_nothing_is_withheld_when_no_group_is_small():
    assert withheld_groups({"A": 5, "B": 9, "empty": 0}, K) == set()


def test_one_small_group_among_empty_ones_takes_everything_with_it():
    assert withheld_groups({"A": 3, "B": 0}, K) == {"A"}
    assert withheld_groups({"A": 3, "B": 40}, K) == {"A", "B"}


@pytest.mark.parametrize("seed", range(300))
def test_what_an_attacker_can_subtract_is_never_a_small_group(seed):
    rng = random.Random(seed)
    groups = {
        f"g{i}": rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30]) for i in range(rng.randint(1, 7))
    }
    withheld = withheld_groups(groups, K)

    shown = {g: n for g, n in groups.items() if g not in withheld}
    whole = sum(groups.values())
    assert all(n == 0 or n >= K for n in shown.values()), "a shown group is small"
    remainder = whole - sum(shown.values())  # the whole is public whenever it is not small
    assert remainder == 0 or remainder >= K or whole < K, (groups, withheld)
    # Only what the rule needs: withholding one group fewer (the largest) would break it.
    if withheld and any(n >= K for n in (groups[g] for g in withheld)):
        largest = max(withheld, key=lambda g: groups[g])
        rest = sum(groups[g] for g in withheld if g != largest)
        assert 0 < rest < K
