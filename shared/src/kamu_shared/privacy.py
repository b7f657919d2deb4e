"""Small-group suppression for aggregates People Operations sees.

A figure describing fewer than ``min_group`` people (or answers) is withheld. A breakdown is
harder: an attacker who knows the total, the shown parts and this rule must not be able to work
out a withheld part (differencing). Withholding only the small parts fails that test (the total
minus the shown parts gives them away, and "withheld means small" bounds them), so when any
part of a breakdown is small every non-zero part is withheld, and the total too when there is
a single one (the total would equal it). When the non-zero parts are all ones, everything is
withheld, zeros included, exactly as for a small total. Otherwise a zero describes nobody and is
shown. Property tests play the attacker (shared/tests/test_privacy.py).
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
    if sum(nonzero.values()) == len(nonzero):
        # Only ones: publish exactly as for a small total (zeros too), or a shown zero would
        # say the total is not small and pin every part to 1.
        return None, dict.fromkeys(parts)
    shown: dict[str, int | None] = {n: (None if n in nonzero else 0) for n in parts}
    if len(nonzero) == 1:
        return None, shown  # the one withheld part would equal the total
    return total, shown
