"""Small-group suppression for aggregates People Operations sees.

A figure describing fewer than ``min_group`` people (or answers) is withheld. A breakdown is
harder: an attacker who knows the total, the shown parts and this rule must not be able to work
out a withheld part (differencing). Withholding only the small parts fails that test (the total
minus the shown parts gives them away, and "withheld means small" bounds them), so when any
part of a breakdown is small every non-zero part is withheld, and the total too when the
withheld parts could only be ones (or there is a single one, which the total would equal).
A zero describes nobody and is shown.
"""

from collections.abc import Collection, Mapping


def small(count: int, min_group: int) -> bool:
    return 0 < count < min_group


def suppress(count: int, min_group: int) -> int | None:
    """The count, or ``None`` if it describes too few."""
    return None if small(count, min_group) else count


def suppress_breakdown(
    total: int,
    parts: Mapping[str, int],
    min_group: int,
    *,
    withhold: Collection[str] = (),
) -> tuple[int | None, dict[str, int | None]]:
    """``total`` and its ``parts`` as they may be shown: ``None`` for what is withheld.

    ``withhold`` names parts to treat as small whatever their count (a part whose own
    breakdown had to be withheld, say).
    """
    if small(total, min_group):
        return None, dict.fromkeys(parts)
    nonzero = {name: count for name, count in parts.items() if count > 0}
    if not any(small(c, min_group) or n in withhold for n, c in nonzero.items()):
        return total, dict(parts)
    shown: dict[str, int | None] = {n: (None if n in nonzero else 0) for n in parts}
    if len(nonzero) == 1 or sum(nonzero.values()) == len(nonzero):
        return None, shown  # the withheld parts would follow from the total alone
    return total, shown
