"""Small-group suppression for aggregates People Operations sees.

Any figure that describes fewer than ``min_group`` people (answers, pairings) is withheld,
and so is one more figure of the same breakdown whenever exactly one would be withheld:
otherwise the withheld one follows from the total minus the others (differencing).
A zero describes nobody and is shown.
"""

from collections.abc import Mapping


def small(count: int, min_group: int) -> bool:
    return 0 < count < min_group


def suppress(count: int, min_group: int) -> int | None:
    """The count, or ``None`` if it describes too few."""
    return None if small(count, min_group) else count


def suppress_parts(total: int, parts: Mapping[str, int], min_group: int) -> dict[str, int | None]:
    """A breakdown of ``total`` with small parts withheld, never exactly one of them.

    If the total itself is small every part is withheld. If exactly one part is withheld, the
    smallest other non-zero part is withheld with it, so no part follows from the rest.
    """
    if small(total, min_group):
        return {name: None for name in parts}
    shown: dict[str, int | None] = {n: suppress(c, min_group) for n, c in parts.items()}
    withheld = [n for n, v in shown.items() if v is None]
    if len(withheld) == 1:
        others = sorted((c, n) for n, c in parts.items() if n not in withheld and c > 0)
        if others:
            shown[others[0][1]] = None
    return shown
