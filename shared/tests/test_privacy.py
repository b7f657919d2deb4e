"""Small-group suppression: no figure about fewer than ``min_group`` people is shown or derived."""

import itertools
import random

import pytest

from kamu_shared.privacy import small, suppress, suppress_parts

MIN = 5


@pytest.mark.parametrize("count", range(1, MIN))
def test_a_count_of_fewer_than_the_minimum_is_withheld(count):
    assert small(count, MIN)
    assert suppress(count, MIN) is None


@pytest.mark.parametrize("count", [0, MIN, MIN + 1, 100])
def test_zero_and_counts_of_at_least_the_minimum_are_shown(count):
    assert not small(count, MIN)
    assert suppress(count, MIN) == count


@pytest.mark.parametrize("min_group", [1, 2, 3, 10])
def test_the_threshold_follows_the_minimum(min_group):
    assert [suppress(n, min_group) for n in range(12)] == [
        n if n == 0 or n >= min_group else None for n in range(12)
    ]


@pytest.mark.parametrize("total", range(1, MIN))
def test_a_small_total_withholds_every_part_even_zeros(total):
    parts = {"colleague": total, "kamu": 0}
    assert suppress_parts(total, parts, MIN) == {"colleague": None, "kamu": None}


def test_a_total_of_zero_shows_its_zero_parts():
    assert suppress_parts(0, {"colleague": 0, "kamu": 0}, MIN) == {"colleague": 0, "kamu": 0}


def test_parts_of_at_least_the_minimum_are_shown_as_they_are():
    parts = {"a": 5, "b": 0, "c": 12}
    assert suppress_parts(17, parts, MIN) == parts


def test_two_small_parts_are_withheld_and_nothing_more():
    parts = {"a": 2, "b": 3, "c": 9, "d": 0}
    assert suppress_parts(14, parts, MIN) == {"a": None, "b": None, "c": 9, "d": 0}


def test_a_lone_small_part_takes_the_smallest_other_non_zero_part_with_it():
    parts = {"a": 2, "b": 0, "c": 7, "d": 9}
    assert suppress_parts(18, parts, MIN) == {"a": None, "b": 0, "c": None, "d": 9}


def test_of_two_parts_a_lone_small_one_withholds_both():
    parts = {"colleague": 3, "kamu": 8}
    assert suppress_parts(11, parts, MIN) == {"colleague": None, "kamu": None}


def test_a_lone_small_part_takes_exactly_one_partner_among_equals():
    shown = suppress_parts(21, {"a": 1, "b": 6, "c": 6, "d": 8}, MIN)
    assert [name for name, v in shown.items() if v is None] in (["a", "b"], ["a", "c"])
    assert shown["d"] == 8


def _breakdown(rng: random.Random) -> tuple[int, dict[str, int], int]:
    """A random breakdown whose parts add up to its total, biased towards small counts."""
    min_group = rng.randint(2, 6)
    parts = {}
    for name in "abcde"[: rng.randint(1, 5)]:
        kind = rng.random()
        if kind < 0.25:
            parts[name] = 0
        elif kind < 0.7:
            parts[name] = rng.randint(1, min_group - 1)
        else:
            parts[name] = rng.randint(min_group, 3 * min_group)
    return sum(parts.values()), parts, min_group


BREAKDOWNS = [_breakdown(random.Random(seed)) for seed in range(2000)]


def test_no_lone_withheld_part_follows_from_a_shown_total():
    """Differencing: total minus the shown parts must never be one withheld part alone."""
    for total, parts, min_group in BREAKDOWNS:
        shown = suppress_parts(total, parts, min_group)
        withheld = [name for name, value in shown.items() if value is None]
        case = (total, parts, min_group, shown)
        assert set(shown) == set(parts), case
        if suppress(total, min_group) is None:
            assert len(withheld) == len(parts), case  # nothing to difference from
            continue
        assert len(withheld) != 1, case
        for name, value in shown.items():
            if value is not None:
                assert value == parts[name], case  # what is shown is true
                continue
            assert parts[name] > 0, case  # a zero is never withheld beside a shown total
        smalls = [name for name in parts if small(parts[name], min_group)]
        assert set(smalls) <= set(withheld), case
        assert len(withheld) <= len(smalls) + 1, case  # at most one partner


def _attack(total: int, shown: dict[str, int | None], min_group: int) -> dict[str, set[int]]:
    """Every value each withheld part could have, to one who knows the total and the rule.

    Tries each way of sharing total minus the shown parts among the withheld ones and keeps
    those that the rule would have published exactly as ``shown``.
    """
    withheld = [name for name, value in shown.items() if value is None]
    rest = total - sum(value for value in shown.values() if value is not None)
    possible: dict[str, set[int]] = {name: set() for name in withheld}
    for cuts in itertools.combinations(range(rest + len(withheld) - 1), len(withheld) - 1):
        bounds = (-1, *cuts, rest + len(withheld) - 1)
        values = [bounds[i + 1] - bounds[i] - 1 for i in range(len(withheld))]
        guess = {**shown, **dict(zip(withheld, values, strict=True))}
        if suppress_parts(total, guess, min_group) == shown:
            for name, value in zip(withheld, values, strict=True):
                possible[name].add(value)
    return possible


def _pinned(total: int, parts: dict[str, int], min_group: int) -> dict[str, int]:
    """The withheld parts an attacker recovers exactly when the total is shown."""
    shown = suppress_parts(total, parts, min_group)
    if suppress(total, min_group) is None or None not in shown.values():
        return {}
    possible = _attack(total, shown, min_group)
    assert all(parts[name] in values for name, values in possible.items())  # sound attack
    return {name: next(iter(v)) for name, v in possible.items() if len(v) == 1}


def test_the_attack_recovers_nothing_from_a_lone_small_part_with_its_partner():
    assert _pinned(11, {"colleague": 3, "kamu": 8}, MIN) == {}
    assert _pinned(18, {"a": 2, "b": 0, "c": 7, "d": 9}, MIN) == {}


@pytest.mark.regression
@pytest.mark.parametrize(
    ("parts", "min_group"),
    [
        # What is left of the total equals the number of withheld parts: each is 1.
        ({"colleague": 1, "kamu": 1}, 2),  # the feedback breakdown, with min_group=2
        ({"a": 1, "b": 1, "c": 5}, 5),
        ({"a": 1, "b": 1, "c": 1, "d": 9}, 5),
        # Two or more withheld parts can only all be small, and what is left is their maximum.
        ({"a": 2, "b": 6, "c": 2, "d": 2}, 3),
        ({"a": 6, "b": 5, "c": 5}, 6),
        # The lone small part's partner is at most the equal part left shown (b 4, d 2).
        ({"a": 7, "b": 4, "c": 4, "d": 2}, 3),
    ],
)
def test_withheld_parts_are_not_pinned_by_what_is_left_of_the_total(parts, min_group):
    """Bug: withheld parts are never zero (zeros are shown) and are small unless one is the
    lone small part's partner, so what is left of a shown total can pin each of them."""
    assert _pinned(sum(parts.values()), parts, min_group) == {}


@pytest.mark.regression
def test_no_withheld_part_can_be_recovered_from_a_shown_total():
    """The differencing attack above, on every random breakdown."""
    leaks = [
        (total, parts, min_group, pinned)
        for total, parts, min_group in BREAKDOWNS
        if (pinned := _pinned(total, parts, min_group))
    ]
    assert leaks == []
