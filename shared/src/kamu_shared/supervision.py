"""Supervision of a process's long-running tasks: whatever ends one, it comes back.

A relay, a consumer, a timer or a dispatcher may end for reasons of its own: an exception it did
not expect, a normal return, or a ``CancelledError`` that nobody asked for (aiokafka's
``consumer.stop()`` raises one while the broker is down). :class:`Supervised` runs the task as a
child and restarts it with growing pauses whenever it ends before ``stop`` is set; only a
cancellation of the supervisor itself (shutdown) is passed on. While the child is down the
supervisor says so (:meth:`Supervised.problem`), so ``/readyz`` tells the truth and recovers
with the task.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Counter, Gauge

from kamu_shared.aio import sleep_unless

RESTARTS = Counter(
    "kamu_task_restarts_total",
    "Long-running tasks restarted after they ended on their own",
    ["task", "reason"],
)
RUNNING = Gauge("kamu_task_running", "1 while the supervised task runs", ["task"])

log = structlog.get_logger("kamu.supervision")

TaskBody = Callable[[asyncio.Event], Awaitable[None]]


class Supervised:
    """One long-running task under supervision (``run`` until ``stop`` is set)."""

    def __init__(
        self,
        name: str,
        body: TaskBody,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        problem: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.name = name
        self._body = body
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._problem = problem
        self.running = False
        self.restarts = 0
        self.last_end: str | None = None  # why the last run ended, for readiness and logs

    async def run(self, stop: asyncio.Event) -> None:
        """Run the body until ``stop``; restart it (with backoff) each time it ends early."""
        delay = self._backoff_initial
        while not stop.is_set():
            started = time.monotonic()
            reason = await self._run_once(stop)
            if stop.is_set():
                break
            self.restarts += 1
            self.last_end = reason
            RESTARTS.labels(self.name, reason.split(":", 1)[0]).inc()
            log.warning("task-ended", task=self.name, reason=reason, restart_in=delay)
            if time.monotonic() - started > self._backoff_max:
                delay = self._backoff_initial  # it ran well for a while: not a crash loop
            await sleep_unless(stop, delay)
            delay = min(delay * 2, self._backoff_max)

    async def _run_once(self, stop: asyncio.Event) -> str:
        """One run of the body as a child task; returns why it ended (stop aside)."""
        child = asyncio.create_task(_call(self._body, stop), name=f"kamu:{self.name}")
        self.running = True
        RUNNING.labels(self.name).set(1)
        try:
            await asyncio.wait({child})  # a cancellation of ours lands here, not in the child
        except asyncio.CancelledError:
            child.cancel()
            await asyncio.gather(child, return_exceptions=True)
            raise
        finally:
            self.running = False
            RUNNING.labels(self.name).set(0)
        if child.cancelled():
            return "cancelled: cancelled by something other than shutdown"
        error = child.exception()
        if error is None:
            return "returned: ended without being asked to"
        log.error("task-crashed", task=self.name, exc_info=error)
        return f"error: {error!r}"

    def problem(self) -> str | None:
        """Why this task cannot do its work now, or None."""
        if not self.running:
            return f"not running (restarting; last ended with {self.last_end or 'nothing yet'})"
        return self._problem()


async def _call(body: TaskBody, stop: asyncio.Event) -> None:
    await body(stop)


class SupervisedCheck:
    """``/readyz``: the supervised task runs and reports no problem of its own."""

    def __init__(self, supervised: Supervised, name: str | None = None) -> None:
        self.name = name or supervised.name
        self._supervised = supervised

    async def check(self) -> None:
        if problem := self._supervised.problem():
            raise RuntimeError(problem)


__all__ = ["RESTARTS", "RUNNING", "Supervised", "SupervisedCheck"]
