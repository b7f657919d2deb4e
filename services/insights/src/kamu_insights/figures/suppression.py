"""Which groups of a breakdown may be shown: nothing that describes fewer than ``k`` people.

A breakdown splits one population (the organisation in a month) into disjoint groups (teams,
goal categories, channels). A group of 1 to ``k - 1`` people is withheld (primary). That alone
is not enough: the whole organisation's figure is shown too, so "all minus the shown groups"
would give the withheld group back (differencing). So withheld groups must together describe
at least ``k`` people: while they do not, the smallest shown group is withheld as well
(secondary). What anyone can then work out by subtracting is the withheld groups taken
together, at least ``k`` people. Periods are handled by the caller: a total over several months
adds up only the months shown, so two overlapping periods never differ by a withheld month.
"""

from collections.abc import Mapping


def small(people: int, k: int) -> bool:
    """Describes someone, but fewer than ``k``."""
    return 0 < people < k


def withheld_groups(people: Mapping[str, int], k: int) -> set[str]:
    """The groups of one breakdown to withhold, given how many people each describes."""
    withheld = {group for group, n in people.items() if small(n, k)}
    together = sum(people[group] for group in withheld)
    shown = sorted((n, group) for group, n in people.items() if n > 0 and group not in withheld)
    while withheld and together < k and shown:
        n, group = shown.pop(0)
        withheld.add(group)
        together += n
    return withheld
