"""Faults of single service processes: ``kill -9`` of each service while commands stream in,
and of notifications in the middle of a burst of notifications going out. Nobody starts it
again: its keeper does, as an orchestrator would (same port, same settings). Then every
command's events are stored, published once and in order, applied downstream, and every
notification sent once and whole, within the bound the test states.
"""

import asyncio
import time

import pytest

from kamu_devstack.services import SERVICES
from tests.faults.client import left

# Each starts servers or a platform of its own (the first test of a module pays for both).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# A story of twelve commands, several going through Kafka first, on a busy 2-core machine.
STORY_SECONDS = 60.0
# A stream is in full flow (its stories at different steps) after this many 2xx commands.
IN_FLOW = 15
# From the service serving HTTP again (its start is the machine's business, bounded by
# conftest.START_SECONDS) to every invariant holding: its consumers rejoin their groups once
# the dead members' sessions end (10 s), its relay publishes what was committed but not yet
# sent, and the stream's stories, held up meanwhile, run to their ends.
KILL_RECOVERY_SECONDS = 60.0

# The burst: stories side by side, each planning four notifications on four or five channels.
BURST_STORIES = 8
# Killed once this many messages of the burst have reached the catcher, the rest going out.
KILL_AFTER_CAUGHT = 20
# From notifications serving HTTP again to every notification sent: its consumers rejoin
# their groups (10 s), the deliveries the dead dispatcher had claimed wait out their lease
# (8 s, FAULT_ENV) unless it is known they were not sent, and the burst's remaining stories
# plan and send theirs.
BURST_RECOVERY_SECONDS = 60.0


def caught(faults) -> int:
    folder = faults.platform.catcher_folder
    return len(list((folder / "mail").glob("*.eml"))) + len(list((folder / "hooks").glob("*.json")))


async def test_notifications_killed_mid_burst_sends_nothing_twice_nothing_half_filled(faults):
    stream = faults.stream("n")
    before = caught(faults)
    burst = asyncio.create_task(stream.run(BURST_STORIES))
    started = time.monotonic()
    while caught(faults) - before < KILL_AFTER_CAUGHT:  # the stories may be done by then
        assert time.monotonic() - started < 2 * STORY_SECONDS, "no burst reached the catcher"
        await asyncio.sleep(0.02)
    killed = faults.platform.kill("notifications")
    at_kill = caught(faults) - before
    await faults.serving_again("notifications", killed)
    deadline = time.monotonic() + BURST_RECOVERY_SECONDS

    problems = []
    if not (await asyncio.wait({burst}, timeout=left(deadline)))[0]:
        burst.cancel()
        unfinished = [s.colleague.id for s in stream.stories if not s.done]
        problems.append(f"stories unfinished {BURST_RECOVERY_SECONDS:g}s after: {unfinished}")
    try:
        await faults.settle(left(deadline))
    except AssertionError as exc:
        problems.append(str(exc))
    if at_kill >= caught(faults) - before:
        problems.append("the kill came after the burst, not in it")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", [name for name, _ in SERVICES])
async def test_service_killed_under_a_command_stream_loses_nothing(faults, service):
    stream = faults.stream(service[:2])
    stream.start()
    await stream.until(commands=IN_FLOW, timeout=STORY_SECONDS)
    killed = faults.platform.kill(service)
    await faults.serving_again(service, killed)
    deadline = time.monotonic() + KILL_RECOVERY_SECONDS

    unfinished = await stream.stop(timeout=left(deadline))
    try:
        await faults.settle(left(deadline))
    except AssertionError as exc:
        unfinished.append(str(exc))
    assert not unfinished, "\n".join(unfinished)
