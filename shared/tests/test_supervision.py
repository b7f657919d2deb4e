"""Every long-running task comes back, whatever ends it; only shutdown ends it for good."""

import asyncio
from collections.abc import Awaitable, Callable

from kamu_shared.supervision import RESTARTS, Supervised, SupervisedCheck
from kamu_shared.testing.waiting import eventually


def until(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


def restarts(task: str, reason: str) -> float:
    return RESTARTS.labels(task, reason)._value.get()


class Body:
    """A task body that ends the way it is told to, counting its runs."""

    def __init__(self, *endings: str) -> None:
        self.endings = list(endings)  # how each run ends; after them, run until stopped
        self.runs = 0
        self.cancelled_by_shutdown = False

    async def __call__(self, stop: asyncio.Event) -> None:
        self.runs += 1
        ending = self.endings.pop(0) if self.endings else "run"
        if ending == "raise":
            raise RuntimeError("bug in the task")
        if ending == "return":
            return
        if ending == "cancel":  # what aiokafka's stop() does while the broker is down
            raise asyncio.CancelledError
        try:
            await stop.wait()
        except asyncio.CancelledError:
            self.cancelled_by_shutdown = True
            raise


async def test_a_task_that_raises_returns_or_is_cancelled_by_others_comes_back():
    body = Body("raise", "return", "cancel")
    task = Supervised("t-ends", body, backoff_initial=0.01, backoff_max=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(task.run(stop))

    await eventually(until(lambda: body.runs == 4 and task.running))
    assert task.restarts == 3
    assert task.problem() is None
    assert restarts("t-ends", "error") == 1
    assert restarts("t-ends", "returned") == 1
    assert restarts("t-ends", "cancelled") == 1

    stop.set()
    await asyncio.wait_for(running, 5)
    assert body.runs == 4  # a stop is not an ending to recover from


async def test_readiness_fails_while_the_task_is_down_and_recovers_with_it():
    body = Body("raise")
    task = Supervised("t-ready", body, backoff_initial=0.5, backoff_max=1)
    check = SupervisedCheck(task)
    stop = asyncio.Event()
    running = asyncio.create_task(task.run(stop))

    async def failing() -> bool:
        try:
            await check.check()
        except RuntimeError as exc:
            return "bug in the task" in str(exc)
        return False

    await eventually(failing)  # during the backoff: says why it is down
    await eventually(until(lambda: body.runs == 2 and task.running))
    assert await check.check() is None
    stop.set()
    await running


async def test_the_task_own_problem_shows_while_it_runs():
    state = {"problem": "stalled"}
    body = Body()
    task = Supervised("t-problem", body, problem=lambda: state["problem"])
    stop = asyncio.Event()
    running = asyncio.create_task(task.run(stop))
    await eventually(until(lambda: task.running))

    assert task.problem() == "stalled"
    state["problem"] = None
    assert task.problem() is None
    stop.set()
    await running


async def test_shutdown_cancels_the_child_and_is_passed_on():
    body = Body()
    task = Supervised("t-shutdown", body)
    running = asyncio.create_task(task.run(asyncio.Event()))
    await eventually(until(lambda: task.running))

    running.cancel()
    done = await asyncio.gather(running, return_exceptions=True)

    assert isinstance(done[0], asyncio.CancelledError)
    assert body.cancelled_by_shutdown
    assert body.runs == 1  # not restarted
    assert not task.running


async def test_a_crash_loop_backs_off_growing_to_the_maximum():
    body = Body(*["raise"] * 50)
    task = Supervised("t-loop", body, backoff_initial=0.05, backoff_max=0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(task.run(stop))
    started = asyncio.get_running_loop().time()
    await eventually(until(lambda: body.runs >= 5), timeout=30)
    elapsed = asyncio.get_running_loop().time() - started
    stop.set()
    await running
    # Four pauses of at least 0.05, 0.1, 0.2, 0.2 s: a crashing task never spins the CPU.
    assert elapsed >= 0.55
