"""Side-by-side timing: contenders take turns on the same slices of work, in rotating order.

Each round gives every contender the same slice; only ``run`` is timed, ``prepare`` (building
inputs, appending what a publisher will read) is not. Rotating the order spreads drift (a
checkpoint, a JIT warming up, autovacuum) over all contenders instead of one. As ``timeit``
does, the garbage collector runs before each timed section and is paused during it, so a
collection caused by one side's garbage never lands in another side's few milliseconds.
"""

import gc
import itertools
import time
from collections.abc import Sequence
from typing import Protocol


class Contender(Protocol):
    """One side of a comparison, already connected; it works on index ranges of a plan."""

    name: str

    async def prepare(self, part: range) -> None:
        """Get ready to handle ``part``; not timed."""
        ...

    async def run(self) -> None:
        """Handle the prepared part; timed."""
        ...


def split(work: range, rounds: int) -> list[range]:
    """``work`` cut into ``rounds`` consecutive, nearly equal, non-empty ranges."""
    rounds = max(1, min(rounds, len(work)))
    bounds = [work.start + len(work) * r // rounds for r in range(rounds + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


async def warm_up(contenders: Sequence[Contender], part: range) -> None:
    """Run ``part`` through every contender untimed: connections, caches and plans get warm."""
    if not part:
        return
    for contender in contenders:
        await contender.prepare(part)
        await contender.run()


async def timed_run(contender: Contender) -> float:
    """Seconds ``contender.run`` took, with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        await contender.run()
        return time.perf_counter() - started
    finally:
        gc.enable()


async def race(contenders: Sequence[Contender], parts: Sequence[range]) -> dict[str, list[float]]:
    """Seconds each contender spent in ``run``, one entry per part."""
    elapsed: dict[str, list[float]] = {c.name: [] for c in contenders}
    for index, part in enumerate(parts):
        shift = index % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            await contender.prepare(part)
            elapsed[contender.name].append(await timed_run(contender))
    return elapsed
