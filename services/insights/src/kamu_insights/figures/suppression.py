"""Which cells of a breakdown may be shown: nothing that describes fewer than ``k`` people.

A breakdown splits one population (the organisation in a month) into groups (teams, goal
categories, channels), and the whole is shown beside it. Withholding only the small groups is
not enough: the whole minus the shown groups gives a lone withheld group back, and an attacker
who knows the rule can pin several (decision 0010). So the platform's one rule applies
(:func:`kamu_shared.privacy.suppress_breakdown`, attacker-tested): when any group is small, every
group that describes someone is withheld, and the whole too when its groups could only be ones.
A figure with several breakdowns withholds its whole if any of them must (the whole is one
number, whichever breakdown it is shown beside). Periods are handled by the caller: a total over
months adds up only the months shown, so two overlapping periods never differ by a withheld one.
"""

from collections.abc import Mapping

from kamu_shared.privacy import small, suppress_breakdown

__all__ = ["breakdown", "small"]


def breakdown(whole: int, people: Mapping[str, int], k: int) -> tuple[bool, set[str]]:
    """Whether the whole is withheld, and which groups are, given how many people each
    describes (``whole``: everyone, counted once)."""
    total, parts = suppress_breakdown(whole, people, k)
    return total is None, {group for group, shown in parts.items() if shown is None}
