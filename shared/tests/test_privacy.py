"""Small-group suppression: no figure about fewer than ``min_group`` people is shown or derived.

The breakdown tests play an attacker who knows the total (when it is shown), the shown parts,
``min_group``, ``withhold`` and the rule itself, and who tries every breakdown the rule would
have published exactly alike (differencing). Whatever is withheld must keep at least two
possible values.
"""

import itertools
import random
from collections.abc import Callable, Collection, Iterator, Mapping

import pytest

from kamu_shared.privacy import small, suppress, suppress_breakdown

MIN = 5
TOTAL = "<total>"  # the total's key among the figures the attacker tries to pin
MAX_COUNT = 15  # the largest part the random breakdowns use

Published = tuple[int | None, dict[str, int | None]]
Rule = Callable[..., Published]


# --- single counts ---------------------------------------------------------------------------


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


# --- breakdowns: what the rule publishes -----------------------------------------------------


@pytest.mark.parametrize("total", range(1, MIN))
def test_a_small_total_withholds_everything_even_zeros(total):
    parts = {"colleague": total, "kamu": 0}
    assert suppress_breakdown(total, parts, MIN) == (None, {"colleague": None, "kamu": None})


def test_a_total_of_zero_shows_its_zero_parts():
    parts = {"colleague": 0, "kamu": 0}
    assert suppress_breakdown(0, parts, MIN) == (0, parts)


def test_a_breakdown_without_small_parts_is_shown_as_it_is():
    parts = {"a": 5, "b": 0, "c": 12}
    assert suppress_breakdown(17, parts, MIN) == (17, parts)


def test_one_small_part_withholds_every_non_zero_part_but_not_the_total_or_zeros():
    parts = {"a": 2, "b": 3, "c": 9, "d": 0}
    assert suppress_breakdown(14, parts, MIN) == (14, {"a": None, "b": None, "c": None, "d": 0})


def test_parts_that_could_only_be_ones_withhold_the_total_too():
    parts = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    assert suppress_breakdown(5, parts, MIN) == (None, dict.fromkeys(parts))


def test_a_part_named_in_withhold_is_treated_as_small():
    parts = {"a": 9, "b": 7, "c": 0}
    published = suppress_breakdown(16, parts, MIN, withhold={"a"})
    assert published == (16, {"a": None, "b": None, "c": 0})


def test_a_lone_non_zero_part_named_in_withhold_takes_the_total_with_it():
    parts = {"a": 9, "b": 0}
    assert suppress_breakdown(9, parts, MIN, withhold={"a"}) == (None, {"a": None, "b": 0})


@pytest.mark.parametrize("withhold", [{"b"}, {"nobody"}, set()])
def test_withhold_naming_a_zero_or_absent_part_changes_nothing(withhold):
    parts = {"a": 9, "b": 0}
    assert suppress_breakdown(9, parts, MIN, withhold=withhold) == (9, parts)


def test_withhold_does_not_lift_a_small_total_s_suppression():
    parts = {"a": 3, "b": 0}
    assert suppress_breakdown(3, parts, MIN, withhold={"b"}) == (None, {"a": None, "b": None})


# --- the attacker ----------------------------------------------------------------------------


def _shares(rest: int, count: int) -> Iterator[tuple[int, ...]]:
    """Every way of sharing ``rest`` among ``count`` parts (zeros allowed)."""
    if count == 0:
        if rest == 0:
            yield ()
        return
    for cuts in itertools.combinations(range(rest + count - 1), count - 1):
        bounds = (-1, *cuts, rest + count - 1)
        yield tuple(bounds[i + 1] - bounds[i] - 1 for i in range(count))


def _random_share(rng: random.Random, rest: int, count: int) -> tuple[int, ...]:
    """One way of sharing ``rest`` among ``count`` parts, every part non-zero when it can be."""
    if count == 0:
        return ()
    floor = 1 if rest >= count and rng.random() < 0.75 else 0
    spare = rest - floor * count
    cuts = sorted(rng.sample(range(spare + count - 1), count - 1))
    bounds = (-1, *cuts, spare + count - 1)
    return tuple(floor + bounds[i + 1] - bounds[i] - 1 for i in range(count))


def _most_withheld_total(published: Published, min_group: int, withhold: Collection[str]) -> int:
    """The largest total the attacker needs to try when the total is withheld.

    The rule withholds a total that is small (below ``min_group``), or the sum of parts that
    could only be ones (at most one per part: twice that leaves room for a rule that withholds
    a few more), or a lone non-zero part named in ``withhold``, which could be any size but is
    then the only part withheld: the largest random breakdown bounds that one.
    """
    _, shown = published
    if withhold and list(shown.values()).count(None) == 1:
        return MAX_COUNT * len(shown)
    return max(min_group - 1, 2 * len(shown))


def _guesses(
    published: Published,
    min_group: int,
    withhold: Collection[str],
    rng: random.Random | None = None,
) -> Iterator[tuple[int, dict[str, int]]]:
    """Breakdowns matching what is shown: every one in bounds, or ``rng``-drawn samples."""
    shown_total, shown = published
    withheld = [name for name, value in shown.items() if value is None]
    known = sum(value for value in shown.values() if value is not None)
    if shown_total is None:
        totals = list(range(_most_withheld_total(published, min_group, withhold) + 1))
    else:
        totals = [shown_total]
    if rng is not None:
        for _ in range(64):
            total = rng.choice(totals)
            if total >= known and (withheld or total == known):
                values = _random_share(rng, total - known, len(withheld))
                yield total, {**shown, **dict(zip(withheld, values, strict=True))}
        return
    for total in totals:
        for values in _shares(total - known, len(withheld)):
            yield total, {**shown, **dict(zip(withheld, values, strict=True))}


def _candidates(
    published: Published,
    min_group: int,
    withhold: Collection[str] = (),
    rule: Rule = suppress_breakdown,
    rng: random.Random | None = None,
) -> Iterator[tuple[int, dict[str, int]]]:
    """The breakdowns the attacker cannot rule out: ``rule`` publishes them as ``published``."""
    for total, parts in _guesses(published, min_group, withhold, rng):
        if rule(total, parts, min_group, withhold=withhold) == published:
            yield total, parts


def _attack(
    published: Published,
    min_group: int,
    withhold: Collection[str] = (),
    rule: Rule = suppress_breakdown,
) -> dict[str, set[int]]:
    """Values the attacker finds possible for each withheld figure (``TOTAL`` for the total).

    Stops as soon as every withheld figure has two possible values (that is all it takes to
    not be pinned), first trying random guesses, then every guess in bounds.
    """
    shown_total, shown = published
    figures = [name for name, value in shown.items() if value is None]
    if shown_total is None:
        figures.append(TOTAL)
    possible: dict[str, set[int]] = {figure: set() for figure in figures}
    seed = repr((published, min_group, sorted(withhold)))
    for rng in (random.Random(seed), None):
        for total, parts in _candidates(published, min_group, withhold, rule, rng):
            for figure in figures:
                possible[figure].add(total if figure == TOTAL else parts[figure])
            if all(len(values) > 1 for values in possible.values()):
                return possible
    return possible


def _pinned(
    total: int,
    parts: Mapping[str, int],
    min_group: int,
    withhold: Collection[str] = (),
    rule: Rule = suppress_breakdown,
) -> dict[str, int]:
    """The withheld figures the attacker recovers exactly."""
    published = rule(total, parts, min_group, withhold=withhold)
    possible = _attack(published, min_group, withhold, rule)
    truth = {**parts, TOTAL: total}
    for figure, values in possible.items():
        assert truth[figure] in values or len(values) > 1, (figure, values)  # a sound attack
    return {figure: next(iter(values)) for figure, values in possible.items() if len(values) == 1}


def _leaks(
    total: int, parts: Mapping[str, int], min_group: int, withhold: Collection[str] = ()
) -> dict[str, int]:
    """What the attacker pins beyond what ``suppress`` alone gives away.

    With ``min_group`` 2 a withheld count can only be 1, so a small total is pinned (and so
    is its part, if it has only one) by the single-count rule, whatever the breakdown does.
    """
    pinned = _pinned(total, parts, min_group, withhold)
    if min_group == 2 and small(total, min_group):
        pinned.pop(TOTAL, None)
        if len(parts) == 1:
            pinned.clear()
    return pinned


def _withhold_small_parts_only(total, parts, min_group, *, withhold=()):
    """The naive rule, withholding only the small parts: differencing defeats it."""
    hidden = {name for name, count in parts.items() if small(count, min_group) or name in withhold}
    return total, {name: None if name in hidden else count for name, count in parts.items()}


def test_the_attacker_keeps_exactly_the_breakdowns_published_alike():
    published = suppress_breakdown(2, {"colleague": 1, "kamu": 1}, 2)
    assert published == (None, {"colleague": None, "kamu": None})
    candidates = [
        (total, parts["colleague"], parts["kamu"]) for total, parts in _candidates(published, 2)
    ]
    assert sorted(candidates) == [(1, 0, 1), (1, 1, 0), (2, 1, 1)]


@pytest.mark.parametrize(
    ("parts", "min_group", "pinned"),
    [
        ({"colleague": 1, "kamu": 1}, 2, {"colleague": 1, "kamu": 1}),
        ({"a": 1, "b": 1, "c": 5}, 5, {"a": 1, "b": 1}),
        ({"a": 2, "b": 6, "c": 2, "d": 2}, 3, {"a": 2, "c": 2, "d": 2}),
    ],
)
def test_the_attacker_pins_what_withholding_only_small_parts_gives_away(parts, min_group, pinned):
    rule = _withhold_small_parts_only
    assert _pinned(sum(parts.values()), parts, min_group, rule=rule) == pinned


# --- breakdowns: what the attacker learns ----------------------------------------------------


@pytest.mark.regression
@pytest.mark.parametrize(
    ("parts", "min_group"),
    [
        # Each leaked under the rule that withheld only the small parts (and one partner).
        ({"colleague": 1, "kamu": 1}, 2),  # the feedback breakdown, with min_group=2
        ({"a": 1, "b": 1, "c": 5}, 5),
        ({"a": 1, "b": 1, "c": 1, "d": 9}, 5),
        ({"a": 2, "b": 6, "c": 2, "d": 2}, 3),
        ({"a": 6, "b": 5, "c": 5}, 6),
        ({"a": 7, "b": 4, "c": 4, "d": 2}, 3),
        ({"colleague": 3, "kamu": 8}, MIN),
        ({"a": 2, "b": 0, "c": 7, "d": 9}, MIN),
    ],
)
def test_the_old_leaks_pin_nothing(parts, min_group):
    total = sum(parts.values())
    assert None in suppress_breakdown(total, parts, min_group)[1].values()
    assert _leaks(total, parts, min_group) == {}


@pytest.mark.parametrize(
    ("parts", "withhold"),
    [
        ({"a": 9, "b": 7, "c": 0}, {"a"}),
        ({"a": 9, "b": 0}, {"a"}),
        ({"a": 9}, {"a"}),
        ({"a": 6, "b": 6, "c": 2}, {"a", "b"}),
    ],
)
def test_parts_withheld_by_name_pin_nothing(parts, withhold):
    assert _leaks(sum(parts.values()), parts, MIN, withhold) == {}


@pytest.mark.regression
@pytest.mark.parametrize(
    ("parts", "min_group"),
    [
        ({"colleague": 1, "kamu": 1, "other": 0}, 2),
        ({"a": 1, "b": 1, "c": 1, "d": 0}, 3),
    ],
)
def test_ones_beside_a_shown_zero_are_not_pinned(parts, min_group):
    """Found once: a shown zero said the total was not small, so a withheld total with two or
    more withheld parts could only mean "they are all ones": parts and total were pinned."""
    assert _leaks(sum(parts.values()), parts, min_group) == {}


def _breakdown(rng: random.Random) -> tuple[int, dict[str, int], int, set[str]]:
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
            parts[name] = rng.randint(min_group, MAX_COUNT)
    withhold = set(rng.sample(sorted(parts), 1)) if rng.random() < 0.2 else set()
    return sum(parts.values()), parts, min_group, withhold


BREAKDOWNS = [_breakdown(random.Random(seed)) for seed in range(3000)]


def _faults(total, parts, min_group, withhold, published) -> list[str]:
    """How ``published`` breaks the rule's promises about what is shown."""
    shown_total, shown = published
    faults = []
    if set(shown) != set(parts):
        faults.append("other parts")
    if shown_total not in (None, total):
        faults.append("a false total")
    if any(value is not None and value != parts[name] for name, value in shown.items()):
        faults.append("a false part")
    ones = [count for count in parts.values() if count]
    if small(total, min_group) or (len(ones) > 1 and set(ones) == {1} and min_group > 1):
        # A small total, or only ones (which look exactly like one): everything withheld.
        if shown_total is not None or set(shown.values()) != {None}:
            faults.append("something shown beside a small total or only ones")
        return faults
    if any(shown[name] != 0 for name, count in parts.items() if count == 0):
        faults.append("a zero withheld")
    hidden = [name for name, count in parts.items() if count and name in withhold]
    hidden += [name for name, count in parts.items() if small(count, min_group)]
    if any(shown[name] is not None for name in hidden):
        faults.append("a small part or one named in withhold shown")
    if not hidden and published != (total, parts):
        faults.append("something withheld though nothing is small")
    return faults


def test_shown_figures_are_true_and_zeros_are_shown_unless_everything_is_withheld():
    faults = []
    for total, parts, min_group, withhold in BREAKDOWNS:
        published = suppress_breakdown(total, parts, min_group, withhold=withhold)
        if found := _faults(total, parts, min_group, withhold, published):
            faults.append((total, parts, min_group, withhold, published, found))
    assert faults == []


@pytest.mark.regression
def test_no_withheld_figure_can_be_pinned():
    """The differencing attack on every random breakdown that withholds something."""
    leaks = []
    for total, parts, min_group, withhold in BREAKDOWNS:
        shown_total, shown = suppress_breakdown(total, parts, min_group, withhold=withhold)
        if shown_total is not None and None not in shown.values():
            continue
        if pinned := _leaks(total, parts, min_group, withhold):
            leaks.append((total, parts, min_group, withhold, pinned))
    assert leaks == []
