"""Small asyncio helpers shared by the long-running loops (relay, consumers)."""

import asyncio
import contextlib


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` but wake as soon as ``stop`` is set, so shutdown never waits a backoff."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
